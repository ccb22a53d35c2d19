/// The service hosts that may receive the bearer token: the cloud's Teams hosts (https, port 443) plus
/// configured extras. Checked before any connection is made.
public struct ServiceHostAllowList: Sendable, Hashable {
    struct Entry: Sendable, Hashable {
        var scheme: String
        var host: String
        var port: Int
    }

    private(set) var entries: Set<Entry>

    /// - Parameter extras: `host` (https, 443), `host:port` (https), or `scheme://host[:port]` to allow
    ///   exactly that scheme and address, e.g. `http://127.0.0.1:8080` for the emulator. Entries that
    ///   cannot be read are ignored (``invalidEntries`` lists them).
    public init(cloud: Cloud, extras: [String]) {
        self.init(httpsHosts: cloud.teamsServiceHosts, extras: extras)
    }

    /// `httpsHosts` (https, port 443) plus `extras` as above.
    public init(httpsHosts: [String], extras: [String]) {
        var entries = Set(httpsHosts.map { Entry(scheme: "https", host: $0, port: 443) })
        for extra in extras {
            if let entry = Self.entry(extra) { entries.insert(entry) }
        }
        self.entries = entries
        self.invalidEntries = extras.filter { Self.entry($0) == nil }
    }

    /// Extras that are not a host, `host:port` or `scheme://host[:port]`.
    public let invalidEntries: [String]

    /// Whether requests to `url` may carry the token.
    public func allows(_ url: ServiceUrl) -> Bool {
        self.entries.contains(Entry(scheme: url.scheme, host: url.host, port: url.port))
    }

    private static func entry(_ text: String) -> Entry? {
        let trimmed = String(text.trimmingSpaces)
        guard !trimmed.isEmpty else { return nil }
        if trimmed.contains("://") {
            guard let url = try? ServiceUrl(trimmed) else { return nil }
            return Entry(scheme: url.scheme, host: url.host, port: url.port)
        }
        guard case .success(let (host, port)) = ServiceUrl.splitAuthority(trimmed[...], defaultPort: 443) else {
            return nil
        }
        return Entry(scheme: "https", host: host, port: port)
    }
}
