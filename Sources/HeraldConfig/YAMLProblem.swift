import Yams

/// Turns a YAML syntax error into a problem with its line and column.
public enum YAMLProblem {
    public static func problem(from error: any Error, file: String) -> ConfigProblem {
        if let yaml = error as? YamlError {
            switch yaml {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
                return ConfigProblem(
                    file: file, line: mark.line, column: mark.column, path: "", message: "YAML syntax: \(problem)")
            default: break
            }
        }
        return ConfigProblem(file: file, path: "", message: "YAML syntax: \(error)")
    }
}
