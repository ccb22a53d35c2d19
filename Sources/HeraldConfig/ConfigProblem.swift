/// One thing wrong with the configuration, with where it is.
public struct ConfigProblem: Sendable, Hashable, CustomStringConvertible {
    /// The file (or `environment` for a variable).
    public var file: String
    /// 1-based line and column, when known.
    public var line: Int?
    public var column: Int?
    /// The key path (`delivery.rateLimits.perTenantPerSecond`) or other place (route name, JSON path).
    public var path: String
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, path: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message
    }

    /// `file:line:column: path: message`
    public var description: String {
        var location = file
        if let line { location += ":\(line)" + (column.map { ":\($0)" } ?? "") }
        return path.isEmpty ? "\(location): \(message)" : "\(location): \(path): \(message)"
    }
}

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
