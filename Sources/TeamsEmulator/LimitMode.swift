import RateLimiting

/// How the emulator enforces Teams' rate limits.
public enum LimitMode: Sendable, Hashable, CustomStringConvertible {
    /// Teams' published limits.
    case teams
    /// No limits (raw throughput measurements).
    case off
    /// Teams' windows with every count multiplied by K, for fast benchmarks.
    case scaled(Int)

    /// Parses `teams`, `off` or `scaled:K` (K ≥ 1).
    public init?(_ text: String) {
        switch text {
        case "teams": self = .teams
        case "off": self = .off
        default:
            guard text.hasPrefix("scaled:"), let factor = Int(text.dropFirst(7)), factor >= 1 else { return nil }
            self = .scaled(factor)
        }
    }

    public var description: String {
        switch self {
        case .teams: return "teams"
        case .off: return "off"
        case .scaled(let factor): return "scaled:\(factor)"
        }
    }

    private var factor: Int? {
        switch self {
        case .teams: return 1
        case .off: return nil
        case .scaled(let factor): return factor
        }
    }

    /// Per bot per conversation: sending, updating, deleting and creating (7/1 s, 8/2 s, 60/30 s, 1800/3600 s).
    var conversationWindows: [SlidingWindowLimiter.Window]? {
        self.windows([(7, 1), (8, 2), (60, 30), (1800, 3600)])
    }

    /// Per bot per conversation: reading members (14/1 s, 16/2 s, 120/30 s, 3600/3600 s).
    var membersWindows: [SlidingWindowLimiter.Window]? {
        self.windows([(14, 1), (16, 2), (120, 30), (3600, 3600)])
    }

    /// Microsoft Graph, installing an app for a user (`POST .../teamwork/installedApps`): 30 per second per app
    /// per tenant.
    var graphInstallWindows: [SlidingWindowLimiter.Window]? {
        self.windows([(30, 1)])
    }

    /// Microsoft Graph, installing an app for a user: 300 per second per app across all tenants.
    var graphInstallAllTenantsWindows: [SlidingWindowLimiter.Window]? {
        self.windows([(300, 1)])
    }

    /// Microsoft Graph's identity and access limit for the smallest tenants, counting each directory read (a
    /// user, an address filter, a group page) as one request: 3,500 per 10 s per app per tenant.
    var graphDirectoryWindows: [SlidingWindowLimiter.Window]? {
        self.windows([(3500, 10)])
    }

    /// Per app per tenant: 50 requests per second.
    var tenantWindows: [SlidingWindowLimiter.Window]? {
        self.windows([(50, 1)])
    }

    private func windows(_ limits: [(Int, Int64)]) -> [SlidingWindowLimiter.Window]? {
        guard let factor = self.factor else { return nil }
        return limits.map { SlidingWindowLimiter.Window(count: $0.0 * factor, length: .seconds($0.1)) }
    }
}
