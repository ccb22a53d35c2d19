import HeraldJSON

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
    /// Offsets in a card body, ascending, where each delivery's id goes: between the quotes of every
    /// `"deliveryId":""` in its buttons' herald blocks. Default: none.
    public var deliveryIdSlots: [Int]
    /// The card has an Acknowledge (``CardVerb/ack``) or opt-out button: the worker keeps a copy of what it sent,
    /// so the gateway can answer a press with the card itself. Default: false.
    public var keepsCard: Bool

    public init(
        body: Body, summary: String? = nil, alert: Bool = false, deliveryIdSlots: [Int] = [], keepsCard: Bool = false
    ) {
        self.body = body
        self.summary = summary
        self.alert = alert
        self.deliveryIdSlots = deliveryIdSlots
        self.keepsCard = keepsCard
    }

    /// The body one delivery sends: a card with `deliveryId` (JSON-escaped) at every slot, or ``body`` as it is.
    public func body(forDelivery deliveryId: String) -> Body {
        guard case .card(let card) = body, !deliveryIdSlots.isEmpty else { return body }
        var out: [UInt8] = []
        out.reserveCapacity(card.count + deliveryIdSlots.count * JSONWriter.escapedCount(deliveryId))
        card.withUnsafeBufferPointer { bytes in
            var from = 0
            for slot in deliveryIdSlots {
                let slot = min(max(slot, from), bytes.count)  // slots come ascending and in the card
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[from..<slot]))
                JSONWriter.appendEscaped(deliveryId, to: &out)
                from = slot
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[from...]))
        }
        return .card(out)
    }
}
