/// A rendered message, shared by all deliveries of one route for one event.
public struct RenderedMessage: Sendable {
    public enum Body: Sendable, Hashable {
        /// Plain text (Teams renders a subset of Markdown).
        case text(String)
        /// An Adaptive Card as compact JSON, ready to splice into an activity attachment's `content`.
        case card([UInt8])
        /// Nothing to render (`delete`).
        case none
    }

    public var body: Body
    public var summary: String?
    public var alert: Bool

    public init(body: Body, summary: String? = nil, alert: Bool = false) {
        self.body = body
        self.summary = summary
        self.alert = alert
    }
}
