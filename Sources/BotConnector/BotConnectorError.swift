/// A failed Bot Connector call (or one refused before it was made), classified the way Teams documents
/// its status codes, so the caller knows whether to retry and whether the recipient is unreachable.
public struct BotConnectorError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong; ``teamsCode`` names it exactly as Teams does (for outcomes and metric labels).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case badArgument = "BadArgument"
            case unauthorized = "Unauthorized"
            case botDisabledByAdmin = "BotDisabledByAdmin"
            case botNotInConversationRoster = "BotNotInConversationRoster"
            case conversationBlockedByUser = "ConversationBlockedByUser"
            case forbiddenOperation = "ForbiddenOperationException"
            case invalidBotApiHost = "InvalidBotApiHost"
            case messageWritesBlocked = "MessageWritesBlocked"
            case forbidden = "Forbidden"
            case conversationNotFound = "ConversationNotFound"
            case activityNotFound = "ActivityNotFoundInConversation"
            case notFound = "NotFound"
            case preconditionFailed = "PreconditionFailed"
            case messageTooLarge = "MessageSizeTooBig"
            case throttled = "Throttled"
            case serviceError = "ServiceError"
            case badGateway = "BadGateway"
            case serviceUnavailable = "ServiceUnavailable"
            case gatewayTimeout = "GatewayTimeout"
            case unexpectedStatus = "UnexpectedStatus"
            case invalidResponse = "InvalidResponse"
            case timeout = "Timeout"
            case connection = "ConnectionFailed"
            case serviceUrlNotAllowed = "ServiceUrlNotAllowed"
            case invalidServiceUrl = "InvalidServiceUrl"
            case tokenRequestFailed = "TokenRequestFailed"
            case graphConsentMissing = "GraphConsentMissing"
            case appInstallBlocked = "AppInstallBlocked"
            case wrongRegion = "WrongRegion"
            case directoryConsentMissing = "DirectoryConsentMissing"
        }

        private let base: Base

        /// 400: the request was malformed.
        public static let badArgument = Code(base: .badArgument)
        /// 401 after one token refresh, or the token endpoint refused the credentials.
        public static let unauthorized = Code(base: .unauthorized)
        /// 403: an admin disabled the bot.
        public static let botDisabledByAdmin = Code(base: .botDisabledByAdmin)
        /// 403: the bot is not (or no longer) a member of the conversation.
        public static let botNotInConversationRoster = Code(base: .botNotInConversationRoster)
        /// 403: the user blocked the bot.
        public static let conversationBlockedByUser = Code(base: .conversationBlockedByUser)
        /// 403: the bot is not installed for the user (personal scope).
        public static let forbiddenOperation = Code(base: .forbiddenOperation)
        /// 403: a GCC tenant was reached through the public service host.
        public static let invalidBotApiHost = Code(base: .invalidBotApiHost)
        /// 403 (subCode): the user blocked or uninstalled the bot.
        public static let messageWritesBlocked = Code(base: .messageWritesBlocked)
        /// 403 with no code or subCode Teams documents.
        public static let forbidden = Code(base: .forbidden)
        /// 404: the conversation does not exist (drop the cached id).
        public static let conversationNotFound = Code(base: .conversationNotFound)
        /// 404: the activity to update or delete does not exist.
        public static let activityNotFound = Code(base: .activityNotFound)
        /// 404 with another code.
        public static let notFound = Code(base: .notFound)
        /// 412: concurrent operations on one conversation.
        public static let preconditionFailed = Code(base: .preconditionFailed)
        /// 413, or refused before sending: the activity is over the size limit.
        public static let messageTooLarge = Code(base: .messageTooLarge)
        /// 429: rate limited; see ``BotConnectorError/retryAfter``.
        public static let throttled = Code(base: .throttled)
        /// 500.
        public static let serviceError = Code(base: .serviceError)
        /// 502.
        public static let badGateway = Code(base: .badGateway)
        /// 503.
        public static let serviceUnavailable = Code(base: .serviceUnavailable)
        /// 504.
        public static let gatewayTimeout = Code(base: .gatewayTimeout)
        /// Any other HTTP status.
        public static let unexpectedStatus = Code(base: .unexpectedStatus)
        /// A success status whose body could not be read.
        public static let invalidResponse = Code(base: .invalidResponse)
        /// No answer in time.
        public static let timeout = Code(base: .timeout)
        /// The connection could not be made or broke.
        public static let connection = Code(base: .connection)
        /// The serviceUrl's host is not on the allow-list; nothing was sent.
        public static let serviceUrlNotAllowed = Code(base: .serviceUrlNotAllowed)
        /// The serviceUrl is not an absolute http(s) URL; nothing was sent.
        public static let invalidServiceUrl = Code(base: .invalidServiceUrl)
        /// The token endpoint failed (not a credentials refusal).
        public static let tokenRequestFailed = Code(base: .tokenRequestFailed)
        /// Microsoft Graph answered 403: the tenant's admin has not granted the app
        /// `TeamsAppInstallation.ReadWriteForUser.All`, so the app cannot be installed for its users.
        public static let graphConsentMissing = Code(base: .graphConsentMissing)
        /// Microsoft Graph answered 403 for one user: an app permission policy blocks the app for them. The
        /// tenant's other users can still be installed for; only this user's deliveries fail.
        public static let appInstallBlocked = Code(base: .appInstallBlocked)
        /// 400 or 403 "User is from different region" (Teams' code is `BadArgument`), or a redirect: the
        /// conversation's tenant moved to another geo (or the EU Data Boundary) since its serviceUrl was stored.
        /// Creating the conversation again through the global service URL returns the right regional one.
        public static let wrongRegion = Code(base: .wrongRegion)
        /// Microsoft Graph answered 403 to a directory read: the tenant's admin has not granted the app the
        /// permission it needs (`User.Read.All` for users, `GroupMember.Read.All` for groups), named in the message.
        public static let directoryConsentMissing = Code(base: .directoryConsentMissing)

        /// The name Teams uses for this code (or Herald's, for failures Teams has no name for).
        public var teamsName: String { self.base.rawValue }
        public var description: String { self.base.rawValue }
    }

    /// The classification.
    public var code: Code
    /// The HTTP status, when a response came back.
    public var httpStatus: Int?
    /// The code exactly as Teams sent it (`MessageWritesBlocked`, `Throttled` ...), else ``Code/teamsName``.
    public var teamsCode: String
    /// Teams' message, or a short explanation. Never contains a token or secret.
    public var message: String
    /// How long Teams asked to wait (`Retry-After`), when it said.
    public var retryAfter: Duration?
    /// The `X-Correlating-OperationId` of the failed call, for logs and outcomes.
    public var correlationId: String?

    public init(
        code: Code,
        httpStatus: Int? = nil,
        teamsCode: String? = nil,
        message: String,
        retryAfter: Duration? = nil,
        correlationId: String? = nil
    ) {
        self.code = code
        self.httpStatus = httpStatus
        self.teamsCode = teamsCode ?? code.teamsName
        self.message = message
        self.retryAfter = retryAfter
        self.correlationId = correlationId
    }

    /// Whether trying again later can succeed, exactly as Teams documents: 412, 429, 502, 503, 504,
    /// timeouts and connection failures. (401 is refreshed and retried once inside the client.)
    public var isRetryable: Bool {
        switch self.code {
        case .preconditionFailed, .throttled, .badGateway, .serviceUnavailable, .gatewayTimeout, .timeout,
            .connection, .tokenRequestFailed:
            return true
        default:
            return false
        }
    }

    /// True when the answer shows the message was not taken: Teams refused the request before acting on it (429,
    /// 412) or no request was made (no token). A 5xx, a timeout or a dropped connection prove nothing: Teams
    /// may have posted the message before failing to answer.
    public var provesNotDelivered: Bool {
        switch self.code {
        case .throttled, .preconditionFailed, .tokenRequestFailed: return true
        default: return false
        }
    }

    /// True when Teams says the recipient cannot be written to (blocked, uninstalled, bot removed or
    /// disabled): the caller should mark the conversation reference blocked and not retry.
    public var recipientBlocked: Bool {
        switch self.code {
        case .messageWritesBlocked, .conversationBlockedByUser, .botNotInConversationRoster, .botDisabledByAdmin,
            .forbiddenOperation:
            return true
        default:
            return false
        }
    }

    public var description: String {
        var text = "Bot Connector error \(self.teamsCode)"
        if let status = self.httpStatus { text += " (HTTP \(status))" }
        text += ": \(self.message)"
        if let retryAfter = self.retryAfter { text += "; retry after \(retryAfter)" }
        if let id = self.correlationId { text += " [operation \(id)]" }
        return text
    }
}
