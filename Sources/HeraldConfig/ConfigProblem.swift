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
