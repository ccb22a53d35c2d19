import HeraldJSON

/// Which delivery a card's buttons belong to: written as `data.herald` into every `Action.Execute` and
/// `Action.Submit` of a rendered card, so the gateway knows what a press was about.
///
/// The block is `{"route":R,"eventId":E,"notificationKey":K,"deliveryId":D}`: strings only, `notificationKey` left
/// out when nil and `deliveryId` last. A nil `deliveryId` is written as `""` and its place recorded, so one
/// rendering serves every delivery of a route: ``RenderedMessage/body(forDelivery:)`` fills it in.
public struct CardActionStamp: Sendable, Hashable {
    public var route: String
    public var eventId: String
    public var notificationKey: String?
    /// Nil while one card is shared by several deliveries.
    public var deliveryId: String?

    public init(route: String, eventId: String, notificationKey: String?, deliveryId: String?) {
        self.route = route
        self.eventId = eventId
        self.notificationKey = notificationKey
        self.deliveryId = deliveryId
    }

    /// `"herald":{...}` and, when ``deliveryId`` is nil, the offset in it between the quotes of `"deliveryId":""`.
    func encodedMember() -> (bytes: [UInt8], slot: Int?) {
        var out: [UInt8] = []
        out.reserveCapacity(96 + route.utf8.count + eventId.utf8.count + (notificationKey?.utf8.count ?? 0))
        out.append(contentsOf: #""herald":{"route":"#.utf8)
        JSONWriter.appendString(route, to: &out)
        out.append(contentsOf: #","eventId":"#.utf8)
        JSONWriter.appendString(eventId, to: &out)
        if let notificationKey {
            out.append(contentsOf: #","notificationKey":"#.utf8)
            JSONWriter.appendString(notificationKey, to: &out)
        }
        out.append(contentsOf: #","deliveryId":"#.utf8)
        var slot: Int?
        if let deliveryId {
            JSONWriter.appendString(deliveryId, to: &out)
        } else {
            out.append(UInt8(ascii: "\""))
            slot = out.count
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return (out, slot)
    }
}
