import Foundation

/// A parsed `store.url`: `sqlite:///absolute/path.db` or `postgres://user:pass@host:port/db?sslmode=...`.
public enum StoreURL: Sendable, Hashable {
    /// An SQLite file; the path is absolute.
    case sqlite(path: String, synchronous: SQLiteSynchronous)
    case postgres(PostgresURL)

    /// SQLite's `synchronous` pragma: when a commit waits for the disk.
    public enum SQLiteSynchronous: String, Sendable, Hashable {
        /// Every commit is fsynced before it returns: survives power loss. The default.
        case full
        /// Commits survive a crash of the process, not a power loss or OS crash.
        case normal
    }

    /// The parts of a PostgreSQL URL.
    public struct PostgresURL: Sendable, Hashable {
        public var host: String
        public var port: Int
        public var username: String
        public var password: String?
        public var database: String
        /// `disable`, `prefer` (the default, as libpq) or `require`.
        public var sslMode: String
        /// The schema tables live in (`?schema=`); default `public`.
        public var schema: String?
    }

    /// Parses `url`; throws ``StoreError/Code/badURL`` naming the problem (never the password).
    public init(parsing url: String) throws(StoreError) {
        if url.hasPrefix("sqlite://") {
            self = try Self.parseSQLite(url)
        } else if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            self = .postgres(try Self.parsePostgres(url))
        } else {
            throw StoreError(.badURL, "store URL must start with sqlite:// or postgres:// (got \(Self.redact(url)))")
        }
    }

    private static func parseSQLite(_ url: String) throws(StoreError) -> StoreURL {
        var rest = String(url.dropFirst("sqlite://".count))
        var synchronous = SQLiteSynchronous.full
        if let q = rest.firstIndex(of: "?") {
            let query = rest[rest.index(after: q)...]
            rest = String(rest[..<q])
            for pair in query.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, parts[0] == "synchronous",
                    let mode = SQLiteSynchronous(rawValue: parts[1].lowercased())
                else {
                    throw StoreError(.badURL, "sqlite URL: unknown parameter \(pair) (only synchronous=full|normal)")
                }
                synchronous = mode
            }
        }
        guard rest.hasPrefix("/") else {
            throw StoreError(
                .badURL, "sqlite URL needs an absolute path: sqlite:///var/lib/herald/herald.db (three slashes)")
        }
        guard rest.count > 1, !rest.hasSuffix("/") else { throw StoreError(.badURL, "sqlite URL names no file") }
        let path = rest.removingPercentEncoding ?? rest
        return .sqlite(path: path, synchronous: synchronous)
    }

    private static func parsePostgres(_ url: String) throws(StoreError) -> PostgresURL {
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            throw StoreError(.badURL, "postgres URL is malformed: \(redact(url))")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw StoreError(.badURL, "postgres URL names no database: \(redact(url))")
        }
        guard let username = components.user, !username.isEmpty else {
            throw StoreError(.badURL, "postgres URL names no user: \(redact(url))")
        }
        var parsed = PostgresURL(
            host: host, port: components.port ?? 5432, username: username.removingPercentEncoding ?? username,
            password: components.password.map { $0.removingPercentEncoding ?? $0 },
            database: database.removingPercentEncoding ?? database, sslMode: "prefer", schema: nil)
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value, ["disable", "prefer", "require"].contains(mode) else {
                    throw StoreError(.badURL, "postgres URL: sslmode must be disable, prefer or require")
                }
                parsed.sslMode = mode
            case "schema":
                guard let schema = item.value, isIdentifier(schema) else {
                    throw StoreError(.badURL, "postgres URL: schema must be letters, digits and _ (at most 63)")
                }
                parsed.schema = schema
            default:
                throw StoreError(.badURL, "postgres URL: unknown parameter \(item.name) (sslmode, schema)")
            }
        }
        return parsed
    }

    static func isIdentifier(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 63 && s.first.map { !$0.isNumber } == true
            && s.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" }
    }

    /// `url` with any password replaced by `***`: safe to log or print.
    public static func redact(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let afterScheme = url[scheme.upperBound...]
        let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" } ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@") else { return url }
        let userInfo = authority[..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }

    /// This URL for logs: the password is never shown.
    public var redacted: String {
        switch self {
        case .sqlite(let path, let synchronous): "sqlite://\(path) (synchronous=\(synchronous.rawValue))"
        case .postgres(let p):
            "postgres://\(p.username)\(p.password == nil ? "" : ":***")@\(p.host):\(p.port)/\(p.database)"
                + (p.schema.map { " schema \($0)" } ?? "")
        }
    }
}
