import HeraldJSON

/// A message Herald sends: markdown text or one Adaptive Card, never both (Teams splits such an
/// activity into two messages and returns no activity id).
public struct MessageActivity: Sendable, Hashable {
    /// What the message shows.
    public enum Body: Sendable, Hashable {
        /// Markdown text.
        case text(String)
        /// An Adaptive Card, as the JSON object the template engine rendered (UTF-8 bytes). It is
        /// placed into the activity as-is, without being parsed again.
        case adaptiveCard(json: [UInt8])
    }

    /// The content.
    public var body: Body
    /// The activity-feed preview text. Default: nil
    public var summary: String?
    /// Sets `channelData.notification.alert`, so a proactive message raises a feed alert. Default: false
    public var alert: Bool

    public init(body: Body, summary: String? = nil, alert: Bool = false) {
        self.body = body
        self.summary = summary
        self.alert = alert
    }

    /// A markdown text message.
    public static func text(_ text: String, summary: String? = nil, alert: Bool = false) -> Self {
        Self(body: .text(text), summary: summary, alert: alert)
    }

    /// An Adaptive Card message from already rendered card JSON.
    public static func adaptiveCard(json: [UInt8], summary: String? = nil, alert: Bool = false) -> Self {
        Self(body: .adaptiveCard(json: json), summary: summary, alert: alert)
    }

    /// The Bot Connector `Activity` JSON for this message.
    public func encodedJSON() -> [UInt8] {
        var writer = JSONWriter(capacity: self.estimatedSize)
        self.write(to: &writer)
        return writer.bytes
    }

    func write(to writer: inout JSONWriter) {
        writer.raw("{\"type\":\"message\"")
        switch self.body {
        case .text(let text):
            writer.raw(",")
            writer.field("text", text)
            writer.raw(",\"textFormat\":\"markdown\"")
        case .adaptiveCard(let json):
            writer.raw(",\"attachments\":[{\"contentType\":\"application/vnd.microsoft.card.adaptive\",\"content\":")
            writer.raw(json)
            writer.raw("}]")
        }
        if let summary = self.summary {
            writer.raw(",")
            writer.field("summary", summary)
        }
        if self.alert {
            writer.raw(",\"channelData\":{\"notification\":{\"alert\":true}}")
        }
        writer.raw("}")
    }

    private var estimatedSize: Int {
        let content: Int
        switch self.body {
        case .text(let text): content = text.utf8.count + 16
        case .adaptiveCard(let json): content = json.count + 96
        }
        return content + (self.summary?.utf8.count ?? 0) + 96
    }

    /// Whether the card JSON at least looks like one JSON object (first and last non-space bytes are
    /// braces). The template engine is trusted for the rest.
    var hasPlausibleCard: Bool {
        guard case .adaptiveCard(let json) = self.body else { return true }
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        return json.first(where: { !isSpace($0) }) == UInt8(ascii: "{")
            && json.last(where: { !isSpace($0) }) == UInt8(ascii: "}")
    }
}
