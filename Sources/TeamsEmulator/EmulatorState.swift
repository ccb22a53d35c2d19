import NIOHTTP1
import RateLimiting

/// Everything the emulator knows, behind one lock. Each request makes one pass through it; the
/// methods return a ``Reply`` the server writes out after the lock is released.
struct EmulatorState {
    /// An answer, ready to be written.
    struct Reply: Sendable {
        var status: HTTPResponseStatus
        var body: String
        var retryAfterSeconds: Int? = nil
        var dropConnection = false
        /// A redirect's `Location`.
        var location: String? = nil
    }

    struct ConversationRecord {
        var conversation: EmulatedConversation
        var aadObjectId: String?
        /// The name of a personal chat's user, once an install or message named them.
        var userName: String?
        var live: Set<String> = []
        var limiter: SlidingWindowLimiter?

        mutating func append(_ activity: RecordedActivity) {
            self.conversation.activities.append(activity)
            switch activity.operation {
            case .send: self.live.insert(activity.id)
            case .delete: self.live.remove(activity.id)
            case .update: break
            }
        }
    }

    /// An access token the token endpoint issued.
    struct IssuedToken {
        /// What the token was issued for (the scope asked for).
        enum Audience {
            case botConnector
            case graph
        }

        var expiry: ContinuousClock.Instant
        var audience: Audience
        /// The tenant segment of the token URL it was issued at.
        var tenantId: String
    }

    var configuration: EmulatorConfiguration
    var stats = EmulatorStats()
    var tokens: [String: IssuedToken] = [:]
    var conversations: [String: ConversationRecord] = [:]
    /// Conversation ids in creation order.
    var conversationOrder: [String] = []
    /// 1:1 conversation id by lower-cased tenant id and user id or AAD object id: `tenant|id`.
    var userConversations: [String: String] = [:]
    var tenantLimiters: [String: SlidingWindowLimiter] = [:]
    /// Create and member-list limiters, by conversation or channel id.
    var createLimiters: [String: SlidingWindowLimiter] = [:]
    var membersLimiters: [String: SlidingWindowLimiter] = [:]
    /// Graph installations per tenant, and across tenants (the key ``allTenants``).
    var graphInstallLimiters: [String: SlidingWindowLimiter] = [:]
    var graphDirectoryLimiters: [String: SlidingWindowLimiter] = [:]
    var nextActivityId: UInt64 = 1_700_000_000_000
    var nextConversationNumber: UInt64 = 1
    var recordedBodies = 0
    var random: SplitMix64
    /// ``EmulatorConfiguration/Faults/graph429`` owed so far: a Graph call is throttled each time it reaches 1, so
    /// a rate of 0.4 throttles exactly two calls in every five (a test can count on seeing them).
    var graphThrottleDebt = 0.0
    /// Apps installed through Microsoft Graph: the installation id by the user's AAD object id. These users have
    /// the bot even when the configuration lists them in `notInstalled`.
    var installedViaGraph: [String: String] = [:]
    /// When each Graph installation becomes visible to Graph's reads (``EmulatorConfiguration/graphLag``).
    var graphVisibleAt: [String: ContinuousClock.Instant] = [:]

    /// Roster members by Teams id and by AAD object id (rebuilt when the rosters change).
    var membersByKey: [String: EmulatorConfiguration.Member] = [:]

    /// Teams the app was installed in through `POST /emulator/install`, by team id.
    var installedTeams: [String: InstalledTeam] = [:]
    /// Users (Teams id and AAD object id) who installed the app in their personal scope: they have the bot even
    /// when the configuration lists them in `notInstalled`.
    var personalInstalls: Set<String> = []
    /// Users (Teams id and AAD object id) who uninstalled the app from their personal scope: sends to them get
    /// the blocked 403, until they install it again.
    var personalUninstalls: Set<String> = []
    /// Teams and group chats the app was uninstalled from: 403 BotNotInConversationRoster.
    var uninstalledFrom: Set<String> = []
    /// What the emulator posted to the bot's messaging endpoint, in order.
    var posted: [PostedActivity] = []

    init(configuration: EmulatorConfiguration, seed: UInt64) {
        self.configuration = configuration
        self.random = SplitMix64(seed: seed)
        self.indexMembers()
    }

    private mutating func indexMembers() {
        self.membersByKey = [:]
        for roster in self.configuration.teams.values {
            for member in roster {
                self.membersByKey[member.id] = member
                if let objectId = member.aadObjectId { self.membersByKey[objectId] = member }
            }
        }
    }

    /// Replaces the configuration; limit windows start afresh when the limits change, and users newly listed in
    /// `notInstalled` lose an installation made through Graph (the app was uninstalled).
    mutating func update(_ configuration: EmulatorConfiguration) {
        let uninstalled = configuration.notInstalled.subtracting(self.configuration.notInstalled)
        if configuration.limits != self.configuration.limits {
            self.tenantLimiters = [:]
            self.createLimiters = [:]
            self.membersLimiters = [:]
            self.graphInstallLimiters = [:]
            self.graphDirectoryLimiters = [:]
            for id in self.conversations.keys { self.conversations[id]?.limiter = nil }
        }
        let rostersChanged = configuration.teams != self.configuration.teams
        self.configuration = configuration
        if rostersChanged { self.indexMembers() }
        if !uninstalled.isEmpty && !self.installedViaGraph.isEmpty {
            self.installedViaGraph = self.installedViaGraph.filter { objectId, _ in
                !uninstalled.contains(objectId) && !uninstalled.contains(self.teamsUserId(aadObjectId: objectId))
            }
        }
    }

    mutating func makeActivityId() -> String {
        defer { self.nextActivityId += 1 }
        return String(self.nextActivityId)
    }

    mutating func makeConversationId() -> String {
        defer { self.nextConversationNumber += 1 }
        let digits = String(self.nextConversationNumber, radix: 16)
        return "a:1emu" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }

    /// Keeps the body for inspection while under the recording cap.
    mutating func keep(_ body: [UInt8]) -> [UInt8]? {
        guard self.recordedBodies < self.configuration.maxRecordedBodies else { return nil }
        self.recordedBodies += 1
        return body
    }

    /// Counts a finished API or token answer.
    mutating func count(_ reply: Reply) {
        if reply.dropConnection {
            self.stats.droppedConnections += 1
        } else if reply.status == .tooManyRequests {
            self.stats.throttled += 1
        } else if reply.status.code >= 400 {
            self.stats.errors += 1
        }
    }
}

/// A small, fast, seedable random number generator (for fault injection).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func unit() -> Double {
        Double(self.next() >> 11) * 0x1.0p-53
    }
}
