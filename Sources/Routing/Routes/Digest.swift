import HeraldJSON

/// A route's `digest`: its deliveries wait in the store and go out together, one message for many events.
public struct DigestTemplate: Sendable {
    public enum Mode: String, Sendable, Codable {
        /// One message when the window closes or `maxItems` are waiting.
        case batch
        /// The first event at once, then that message updated in place as more arrive, at most once per
        /// `minInterval`, until the window closes.
        case live
    }

    public var mode: Mode
    /// From a digest's first event; later events join until it closes.
    public var window: Duration
    /// A batch digest goes out early when this many are waiting; a live one takes no more and the next event
    /// starts a new message. Default: 25.
    public var maxItems: Int
    /// Separate digests per rendered key (default: one per recipient and route).
    public var key: TextTemplate?
    /// A live digest's message is updated at most this often. Default: 30 s.
    public var minInterval: Duration

    public static let defaultMaxItems = 25
    public static let defaultMinInterval = Duration.seconds(30)
    /// The most items one digest takes.
    public static let maxItemsLimit = 500

    public init(
        mode: Mode, window: Duration, maxItems: Int = defaultMaxItems, key: TextTemplate? = nil,
        minInterval: Duration = defaultMinInterval
    ) {
        self.mode = mode
        self.window = window
        self.maxItems = maxItems
        self.key = key
        self.minInterval = minInterval
    }

    /// What a digest's message templates can name: the items (each event's `data`, oldest first), their count and
    /// the digest's key.
    public static let rootNames: Set<String> = ["items", "count", "key"]
}

/// How one delivery joins a digest, as routing planned it.
public struct DigestPlan: Sendable {
    public var mode: DigestTemplate.Mode
    public var window: Duration
    public var maxItems: Int
    public var minInterval: Duration
    /// The rendered `digest.key` (empty: the default, one digest per recipient and route).
    public var key: String
    /// The event's `data`: one of the digest's `items`.
    public var data: JSONValue

    public init(
        mode: DigestTemplate.Mode, window: Duration, maxItems: Int, minInterval: Duration, key: String,
        data: JSONValue
    ) {
        self.mode = mode
        self.window = window
        self.maxItems = maxItems
        self.minInterval = minInterval
        self.key = key
        self.data = data
    }
}

extension Router {
    /// The digest's message for `items` (oldest first), in the route's default language and each of its
    /// `message.locales`; nil when the route is gone or no longer a digest route (the routes changed).
    /// Card buttons carry the digest's id as their event id.
    public func renderDigest(
        route name: String, items: [JSONValue], key: String, digestId: String
    ) throws(TemplateError) -> (message: RenderedMessage, localized: [LocalizedMessage])? {
        guard let route = routes.first(where: { $0.name == name }), route.digest != nil else { return nil }
        let roots: JSONValue = .object([
            JSONMember("items", .array(items)), JSONMember("count", .number(Double(items.count))),
            JSONMember("key", .string(key)),
        ])
        let scope = EvaluationScope(roots: roots)
        let stamp = CardActionStamp(route: route.name, eventId: digestId, notificationKey: nil, deliveryId: nil)
        var message = RenderedMessage(body: .none, alert: route.message.alert)
        try render(route, body: route.message.body, scope: scope, stamp: stamp, into: &message)
        if let summary = route.message.summary { message.summary = try summary.render(in: scope, limits: limits) }
        let localized = try renderLocales(route, scope: scope, stamp: stamp, default: message)
        return (message, localized)
    }
}
