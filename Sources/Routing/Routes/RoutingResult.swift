/// What routing decided for one event.
public struct RoutingResult: Sendable {
    public var deliveries: [Delivery] = []
    public var rejections: [DeliveryRejection] = []
    /// Names of the routes that matched (a catch-all only when nothing else did).
    public var matchedRoutes: [String] = []

    /// No route matched: the event's outcome is `unroutable`.
    public var isUnroutable: Bool { matchedRoutes.isEmpty }
}
