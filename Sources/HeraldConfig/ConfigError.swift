/// The configuration could not be loaded. `problems` lists every problem found, not only the first.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var problems: [ConfigProblem]

    public init(problems: [ConfigProblem]) { self.problems = problems }

    /// Configuration problems do not go away by retrying.
    public var isRetryable: Bool { false }

    /// The first problem, plus how many more (one line, for a CLI error).
    public var description: String {
        guard let first = problems.first else { return "invalid configuration" }
        return problems.count == 1 ? first.description : "\(first) (and \(problems.count - 1) more problems)"
    }
}
