/// A Teams user, as the emulator puts them into activities: `from.id` is `29:1{aadObjectId}` (or their roster id).
public struct TeamsUser: Sendable, Hashable, Codable {
    public var aadObjectId: String
    public var name: String?

    public init(aadObjectId: String, name: String? = nil) {
        self.aadObjectId = aadObjectId
        self.name = name
    }
}

/// What happens to the app (or a member) that the emulator tells the bot about: `POST /emulator/install`.
public struct TeamsInstall: Sendable, Hashable {
    public enum Scope: String, Sendable, Hashable, CaseIterable, Codable {
        case personal, team, groupChat
    }

    public enum Action: String, Sendable, Hashable, CaseIterable, Codable {
        /// The app is installed: `installationUpdate` add, then `conversationUpdate` with the bot in
        /// `membersAdded`.
        case add
        /// The app is uninstalled: `installationUpdate` remove, then `conversationUpdate` with the bot in
        /// `membersRemoved`.
        case remove
        /// A user joins a team that has the app (team scope): `conversationUpdate` with the user in `membersAdded`.
        case memberAdded
        /// A user leaves such a team: `conversationUpdate` with the user in `membersRemoved`.
        case memberRemoved
    }

    /// A team; the id (the General channel's too) is generated when nil.
    public struct Team: Sendable, Hashable, Codable {
        public var id: String?
        public var name: String?

        public init(id: String? = nil, name: String? = nil) {
            self.id = id
            self.name = name
        }
    }

    public var scope: Scope
    public var action: Action
    public var tenantId: String
    /// Who installs, uninstalls, joins or leaves.
    public var user: TeamsUser
    /// Team scope only.
    public var team: Team?
    /// Group chat scope only: `19:...@thread.v2`, generated when nil.
    public var chatId: String?
    /// Default: `en-US`
    public var locale: String
    /// An IANA time zone. Default: `Europe/Berlin`
    public var timeZone: String
    public var token: BotTokenKind
    /// An app update rather than a first install: the action becomes `add-upgrade` / `remove-upgrade`.
    public var upgrade: Bool

    public init(
        scope: Scope,
        action: Action,
        tenantId: String,
        user: TeamsUser,
        team: Team? = nil,
        chatId: String? = nil,
        locale: String = "en-US",
        timeZone: String = "Europe/Berlin",
        token: BotTokenKind = .valid,
        upgrade: Bool = false
    ) {
        self.scope = scope
        self.action = action
        self.tenantId = tenantId
        self.user = user
        self.team = team
        self.chatId = chatId
        self.locale = locale
        self.timeZone = timeZone
        self.token = token
        self.upgrade = upgrade
    }
}

/// A user writing to the bot: `POST /emulator/message`.
public struct TeamsMessage: Sendable, Hashable {
    public var tenantId: String
    public var user: TeamsUser
    public var text: String
    public var token: BotTokenKind
    /// A conversation the emulator knows (a personal chat, a team's channel, a group chat); nil: the user's
    /// personal chat with the bot.
    public var conversationId: String?
    /// Default: `en-US`
    public var locale: String
    /// Default: `Europe/Berlin`
    public var timeZone: String

    public init(
        tenantId: String,
        user: TeamsUser,
        text: String,
        token: BotTokenKind = .valid,
        conversationId: String? = nil,
        locale: String = "en-US",
        timeZone: String = "Europe/Berlin"
    ) {
        self.tenantId = tenantId
        self.user = user
        self.text = text
        self.token = token
        self.conversationId = conversationId
        self.locale = locale
        self.timeZone = timeZone
    }
}

/// One activity the emulator posted to the bot's messaging endpoint, and how the bot answered.
public struct PostedActivity: Sendable, Hashable {
    public var id: String
    public var type: String
    /// The bot's last HTTP status; 0 when it could not be reached.
    public var status: Int
    /// Requests made for it (retries included).
    public var attempts: Int
    /// The bot's last answer body.
    public var responseBody: [UInt8]

    public init(id: String, type: String, status: Int, attempts: Int, responseBody: [UInt8] = []) {
        self.id = id
        self.type = type
        self.status = status
        self.attempts = attempts
        self.responseBody = responseBody
    }
}

/// What one `install`, `message` or `activity` call delivered to the bot.
public struct BotDelivery: Sendable, Hashable {
    /// The conversation the activities belong to (empty when a raw activity names none).
    public var conversationId: String
    /// The serviceUrl in the activities: where the bot answers.
    public var serviceUrl: String
    /// In the order they were posted.
    public var activities: [PostedActivity]
}

/// Why the emulator could not drive the bot: bad input (400), no bot endpoint (409), an unknown conversation,
/// activity or button (404), a bot that could not be reached (502, clicks only).
public struct BotDriveError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The HTTP status the driving endpoints answer with.
    public var status: Int
    public var message: String

    public var description: String { self.message }

    /// The `error.code` the driving endpoints answer with.
    var code: String {
        switch self.status {
        case 404: return "NotFound"
        case 409: return "NoBotEndpoint"
        case 502: return "BotUnreachable"
        default: return "BadArgument"
        }
    }

    static func badInput(_ message: String) -> Self { Self(status: 400, message: message) }

    static let noBotEndpoint = Self(
        status: 409,
        message:
            "No bot endpoint is configured: start with --bot-endpoint or POST /emulator/config {\"botEndpoint\":...}."
    )
}
