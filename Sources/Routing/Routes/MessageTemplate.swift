/// What a route sends.
public struct MessageTemplate: Sendable {
    public enum Body: Sendable {
        case text(TextTemplate)
        case card(CardTemplate)
    }

    /// The default body.
    public var body: Body
    /// Cards chosen by exact event type, before `body` (`message.cardsByType`).
    public var cardsByType: [String: CardTemplate]
    /// Activity-feed preview text.
    public var summary: TextTemplate?
    /// Teams activity-feed alert. Default: false.
    public var alert: Bool
    /// The message in other languages (`message.locales`), by tag; cards of ``cardsByType`` are not localized.
    public var locales: [LocalizedTemplate]

    public init(
        body: Body, cardsByType: [String: CardTemplate] = [:], summary: TextTemplate? = nil, alert: Bool = false,
        locales: [LocalizedTemplate] = []
    ) {
        self.body = body
        self.cardsByType = cardsByType
        self.summary = summary
        self.alert = alert
        self.locales = locales
    }
}
