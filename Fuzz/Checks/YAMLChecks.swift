import HeraldConfig
import Routing

/// Routes and configuration YAML: either a result or problems, each naming the file and saying what is wrong;
/// never a crash, and never both nothing and no problem.
enum YAMLChecks {
    /// Every `card:` a fuzzed routes file names reads as this card.
    static let card = Array(
        #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"${data.title}"}]}"#.utf8)

    static func routes(_ bytes: [UInt8]) throws(PropertyViolation) {
        let text = String(decoding: bytes, as: UTF8.self)
        let (routes, problems) = RouteSet.parse(
            yaml: text, file: "routes.yaml", readTemplate: { path in (path, path.hasSuffix(".json") ? card : nil) })
        try checkProblems(problems, .routes, bytes)
        if routes == nil, problems.isEmpty {
            throw PropertyViolation(.routes, "no routes and no problem for \(excerpt(bytes))")
        }
    }

    static func config(_ bytes: [UInt8]) throws(PropertyViolation) {
        let text = String(decoding: bytes, as: UTF8.self)
        let (configuration, problems) = HeraldConfiguration.parse(
            yaml: text, file: "herald.yaml", baseDirectory: ".", environment: [:])
        try checkProblems(problems, .config, bytes)
        if configuration == nil, problems.isEmpty {
            throw PropertyViolation(.config, "no configuration and no problem for \(excerpt(bytes))")
        }
    }

    static func checkProblems(
        _ problems: [ConfigProblem], _ target: FuzzTarget, _ bytes: [UInt8]
    ) throws(PropertyViolation) {
        for problem in problems where problem.message.isEmpty || problem.file.isEmpty {
            throw PropertyViolation(target, "a problem without a file or message (\(problem)) for \(excerpt(bytes))")
        }
    }
}
