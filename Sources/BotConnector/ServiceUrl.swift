/// A conversation's serviceUrl, parsed strictly: an absolute `https` or `http` URL with no user info,
/// query or fragment. API paths are joined onto ``basePath``, which always ends with `/`, so
/// `https://host/teams` and `https://host/teams/` give the same request URLs.
public struct ServiceUrl: Sendable, Hashable, CustomStringConvertible {
    /// `https` or `http`, lowercased.
    public let scheme: String
    /// The host, lowercased (an IPv6 literal keeps its brackets).
    public let host: String
    /// The port, explicit or the scheme's default.
    public let port: Int
    /// The path prefix, starting and ending with `/` (`/`, `/teams/`, `/amer/`).
    public let basePath: String

    /// Parses `text`; throws `invalidServiceUrl` when it is not an absolute http(s) URL.
    public init(_ text: String) throws(BotConnectorError) {
        func invalid(_ why: String) -> BotConnectorError {
            BotConnectorError(code: .invalidServiceUrl, message: "serviceUrl \(why)")
        }
        let lower = text.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") {
            self.scheme = "https"
            rest = text.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            self.scheme = "http"
            rest = text.dropFirst(7)
        } else {
            throw invalid("must start with https:// or http://")
        }
        if rest.contains(where: {
            $0 == "?" || $0 == "#" || $0 == "\\" || $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 } ?? false
        }) {
            throw invalid("must not contain a query, fragment, backslash or whitespace")
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        guard !authority.contains("@") else { throw invalid("must not contain user info") }
        let (host, port) = try Self.splitAuthority(authority, defaultPort: self.scheme == "https" ? 443 : 80)
            .get()
        self.host = host
        self.port = port
        var path = String(rest[slash...])
        if path.isEmpty { path = "/" }
        if !path.hasSuffix("/") { path += "/" }
        self.basePath = path
    }

    /// The absolute URL of `relativePath` (no leading slash, e.g. `v3/conversations`) under this serviceUrl.
    public func url(_ relativePath: String) -> String {
        "\(self.origin)\(self.basePath)\(relativePath)"
    }

    /// `scheme://host[:port]`, the port left out when it is the scheme's default.
    public var origin: String {
        let defaultPort = self.scheme == "https" ? 443 : 80
        return self.port == defaultPort ? "\(self.scheme)://\(self.host)" : "\(self.scheme)://\(self.host):\(self.port)"
    }

    public var description: String { self.origin + self.basePath }

    /// Splits `host[:port]`, validating both.
    static func splitAuthority(_ authority: Substring, defaultPort: Int) -> Result<(String, Int), BotConnectorError> {
        func invalid(_ why: String) -> Result<(String, Int), BotConnectorError> {
            .failure(BotConnectorError(code: .invalidServiceUrl, message: "serviceUrl host \(why)"))
        }
        var hostPart = authority
        var port = defaultPort
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return invalid("has an unclosed [") }
            hostPart = authority[...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let value = Int(after.dropFirst()) else { return invalid("has a bad port") }
                port = value
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            guard let value = Int(authority[authority.index(after: colon)...]) else { return invalid("has a bad port") }
            port = value
        }
        guard (1...65_535).contains(port) else { return invalid("has a port out of range") }
        guard !hostPart.isEmpty else { return invalid("is empty") }
        let allowed = hostPart.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-.[]:".contains($0)) }
        guard allowed else { return invalid("has characters a host name cannot have") }
        return .success((hostPart.lowercased(), port))
    }
}
