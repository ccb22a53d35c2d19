/// A user pressing a button of a card the bot sent: `POST /emulator/click`.
///
/// The button is the first `Action.Execute` or `Action.Submit` of the activity's Adaptive Card with the verb
/// (`verb` of an Execute, `data.verb` of a Submit) and the title given; give one of them, or both to narrow it.
public struct TeamsClick: Sendable, Hashable {
    /// Who presses the button, as Teams names them in `from`: an id (`29:...`), an AAD object id, or both; the
    /// one left out is the emulator's for the other.
    public struct User: Sendable, Hashable {
        public var id: String?
        public var aadObjectId: String?
        public var name: String?

        public init(id: String? = nil, aadObjectId: String? = nil, name: String? = nil) {
            self.id = id
            self.aadObjectId = aadObjectId
            self.name = name
        }
    }

    /// The conversation the card was sent to.
    public var conversationId: String
    /// The id of the activity holding the card.
    public var activityId: String
    public var verb: String?
    public var title: String?
    /// Nil: the user of a personal chat; required in channels and group chats.
    public var from: User?
    /// A JSON object whose members replace the button's data members of the same name (top level only), the way
    /// a client that does not play by the rules could send them; nil: the button's data as it is.
    public var data: [UInt8]?
    public var token: BotTokenKind
    /// Default: `en-US`
    public var locale: String
    /// Default: `Europe/Berlin`
    public var timeZone: String

    public init(
        conversationId: String,
        activityId: String,
        verb: String? = nil,
        title: String? = nil,
        from: User? = nil,
        data: [UInt8]? = nil,
        token: BotTokenKind = .valid,
        locale: String = "en-US",
        timeZone: String = "Europe/Berlin"
    ) {
        self.conversationId = conversationId
        self.activityId = activityId
        self.verb = verb
        self.title = title
        self.from = from
        self.data = data
        self.token = token
        self.locale = locale
        self.timeZone = timeZone
    }
}

/// What the user sees after pressing a button, as Teams reads the bot's answer.
public enum ClickAnswer: Sendable, Hashable {
    /// What the answer was, for counters and the JSON of `POST /emulator/click`.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case card, message, error, invalid, timeout, none
    }

    /// Action.Execute answered with a card (`application/vnd.microsoft.card.adaptive`): it replaced the card
    /// pressed.
    case card
    /// Action.Execute answered with a message the user sees (`application/vnd.microsoft.activity.message`).
    case message(String)
    /// Action.Execute answered with an error the user sees (`application/vnd.microsoft.error`, `statusCode`
    /// 4xx or 5xx).
    case error(statusCode: Int, code: String, message: String)
    /// An answer Teams does not accept (a status other than 200, an empty or non-JSON body, a shape that is none
    /// of the above, a card that is not an AdaptiveCard): the user sees a generic error.
    case invalid(reason: String)
    /// The bot did not answer in time (``EmulatorConfiguration/invokeTimeout`` for Action.Execute): the user sees
    /// an error.
    case timeout
    /// Action.Submit answered with a 2xx: nothing shown (the bot updates the card itself, if it wants to).
    case none

    public var kind: Kind {
        switch self {
        case .card: return .card
        case .message: return .message
        case .error: return .error
        case .invalid: return .invalid
        case .timeout: return .timeout
        case .none: return .none
        }
    }
}

/// What one click delivered to the bot and what came of it.
public struct ClickResult: Sendable, Hashable {
    /// The activity holding the card.
    public var activityId: String
    public var conversationId: String
    /// `invoke` (Action.Execute) or `message` (Action.Submit).
    public var type: String
    /// The bot's HTTP status; 0 when it did not answer in time.
    public var httpStatus: Int
    public var answer: ClickAnswer
    /// The card (JSON) as it stands after the click: the bot's when it answered with one or updated the activity
    /// meanwhile. Nil when the activity was deleted meanwhile or its body is no longer kept.
    public var card: [UInt8]?
    /// The activity posted to the bot, as `GET /emulator/inbound` lists it.
    public var posted: PostedActivity
}

/// Clicks' answers, by kind.
public struct ClickAnswerCounts: Sendable, Hashable {
    public var card = 0
    public var message = 0
    public var error = 0
    public var invalid = 0
    public var timeout = 0
    public var none = 0

    public init() {}

    public subscript(kind: ClickAnswer.Kind) -> Int {
        get {
            switch kind {
            case .card: return self.card
            case .message: return self.message
            case .error: return self.error
            case .invalid: return self.invalid
            case .timeout: return self.timeout
            case .none: return self.none
            }
        }
        set {
            switch kind {
            case .card: self.card = newValue
            case .message: self.message = newValue
            case .error: self.error = newValue
            case .invalid: self.invalid = newValue
            case .timeout: self.timeout = newValue
            case .none: self.none = newValue
            }
        }
    }
}
