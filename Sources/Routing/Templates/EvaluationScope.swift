/// What expressions see: the event, and inside `$data` repetition the current item and its index.
///
/// The event sits in a shared box so that copying a scope (once per `$data` item) costs one retain, not one
/// per field of the event.
public struct EvaluationScope {
    final class Box: Sendable {
        let event: NotificationEvent
        init(_ event: NotificationEvent) { self.event = event }
    }

    let box: Box
    public var item: JSONValue?
    public var index: Int?

    public init(event: NotificationEvent, item: JSONValue? = nil, index: Int? = nil) {
        self.box = Box(event)
        self.item = item
        self.index = index
    }

    /// The event being routed or rendered.
    public var event: NotificationEvent {
        _read { yield box.event }
    }

    /// The value at a path from the event root (`data.x`, `id`, ...).
    public func resolveFromEvent(_ path: JSONPath) -> JSONValue? {
        guard case .key(let first) = path.segments[0], let root = event.bindingValue(forRoot: first) else {
            return nil
        }
        return path.segments.count == 1 ? root : path.resolve(in: root, from: 1)
    }
}
