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

    public init(
        body: Body, cardsByType: [String: CardTemplate] = [:], summary: TextTemplate? = nil, alert: Bool = false
    ) {
        self.body = body
        self.cardsByType = cardsByType
        self.summary = summary
        self.alert = alert
    }
}
