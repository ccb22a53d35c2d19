/// Counters of what the emulator served.
public struct EmulatorStats: Sendable, Hashable {
    /// Every request, inspection API included.
    public var requests = 0
    /// Bot Connector API calls (`/v3/...`).
    public var apiRequests = 0
    /// Tokens issued by the token endpoint.
    public var tokensIssued = 0
    /// 429 answers.
    public var throttled = 0
    /// The 429s Teams' limits answered, by the limit that refused: `tenant` (50/s per app per tenant),
    /// `conversation` (sends, updates and deletes in one conversation), `createConversation` (creates for one
    /// user or channel) and `members` (member reads of one conversation). Injected `429` faults are in none.
    public var throttledBy: [String: Int] = [:]
    /// Other 4xx/5xx answers to API and token calls (injected faults included).
    public var errors = 0
    /// Connections closed on purpose without an answer.
    public var droppedConnections = 0
    /// Requests whose answer could not be written because the client had gone (closed or was killed while
    /// its request was being served): requests in flight when a client died.
    public var unanswered = 0
    /// Conversations created (a repeated 1:1 create returns the existing one and is not counted).
    public var conversationsCreated = 0
    public var activitiesSent = 0
    public var activitiesUpdated = 0
    public var activitiesDeleted = 0
    /// `pagedmembers` requests (one per page), whatever their answer.
    public var memberReads = 0
    /// Microsoft Graph calls (`/graph/v1.0/...`), whatever their answer. They are not in ``apiRequests``,
    /// ``throttled`` or ``errors``.
    public var graphRequests = 0
    /// Apps installed for a user through Microsoft Graph (201 answers).
    public var graphInstalls = 0
    /// Graph reads of an installation made too recently to show (``EmulatorConfiguration/graphLag``).
    public var graphSettlingMisses = 0
    /// Directory reads Microsoft Graph answered (a user, an address filter, a group page), after consent and limits.
    public var directoryReads = 0
    /// Microsoft Graph calls answered 429.
    public var graphThrottled = 0
    /// `GET /emulator/openid/.well-known/openidconfiguration` requests.
    public var openIdMetadataRequests = 0
    /// `GET /emulator/openid/keys` requests.
    public var jwksRequests = 0
    /// Requests made to the bot's messaging endpoint, retries included.
    public var activitiesPosted = 0
    /// Activities the bot answered with a non-2xx status, or could not be reached for, after the retries.
    public var activityFailures = 0
    /// Buttons pressed through `POST /emulator/click` whose activity was posted to the bot.
    public var clicks = 0
    /// How the bot answered those clicks (an unreachable bot's are in none).
    public var clickAnswers = ClickAnswerCounts()

    public init() {}
}

/// The app installed for a user through Microsoft Graph.
public struct GraphInstallation: Sendable, Hashable {
    /// The user's AAD object id, as it appeared in the Graph URL.
    public var userId: String
    /// The installation's id in Graph (`users/{userId}/teamwork/installedApps/{installationId}`).
    public var installationId: String

    public init(userId: String, installationId: String) {
        self.userId = userId
        self.installationId = installationId
    }
}

/// One operation a conversation received.
public struct RecordedActivity: Sendable, Hashable {
    public enum Operation: String, Sendable, Hashable {
        case send, update, delete
    }

    /// The activity id (increasing numeric strings).
    public var id: String
    public var operation: Operation
    /// The request body as received (nil for deletes, and once the recording cap is reached).
    public var body: [UInt8]?
}

/// A conversation and everything it received, in order.
public struct EmulatedConversation: Sendable, Hashable {
    public var id: String
    public var tenantId: String
    public var isGroup: Bool
    /// The user of a 1:1 chat.
    public var userId: String?
    /// The channel of a channel thread.
    public var channelId: String?
    public var activities: [RecordedActivity] = []

    /// The ids of activities sent and not deleted, in order.
    public var liveActivityIds: [String] {
        var deleted = Set<String>()
        for activity in self.activities where activity.operation == .delete { deleted.insert(activity.id) }
        return self.activities.filter { $0.operation == .send && !deleted.contains($0.id) }.map(\.id)
    }

    /// The activity `id` as it stands: its last send or update (a card a click replaced included); nil when it
    /// was never sent or has been deleted.
    public func activity(_ id: String) -> RecordedActivity? {
        guard let last = self.activities.last(where: { $0.id == id }), last.operation != .delete else { return nil }
        return last
    }
}
