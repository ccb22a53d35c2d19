import HeraldJSON

/// What expressions see: the event, and inside `$data` repetition the current item and its index.
///
/// The event sits in a shared box so that copying a scope (once per `$data` item) costs one retain, not one
/// per field of the event.
public struct EvaluationScope {
    final class Box: Sendable {
        let event: NotificationEvent
        /// Set for a scope that answers a button: its roots replace the event's.
        let action: ActionContext?
        /// Set for a digest's scope: the members of this object are the roots (`items`, `count`, `key`).
        let roots: JSONValue?

        init(_ event: NotificationEvent, action: ActionContext? = nil, roots: JSONValue? = nil) {
            self.event = event
            self.action = action
            self.roots = roots
        }
    }

    let box: Box
    public var item: JSONValue?
    public var index: Int?

    public init(event: NotificationEvent, item: JSONValue? = nil, index: Int? = nil) {
        self.box = Box(event)
        self.item = item
        self.index = index
    }

    /// A scope for answering a pressed button: the roots `data` (the button's data without its `herald` block),
    /// `actor` and `action`, and no others.
    public init(action: ActionContext) {
        var context = action
        context.data = context.dataWithoutHerald
        self.box = Box(NotificationEvent(id: "", type: "", source: "", data: context.data), action: context)
    }

    /// A scope whose roots are the members of `roots`, and no others (a digest's `items`, `count`, `key`).
    public init(roots: JSONValue) {
        self.box = Box(NotificationEvent(id: "", type: "", source: "", data: .null), roots: roots)
    }

    /// The event being routed or rendered.
    public var event: NotificationEvent {
        _read { yield box.event }
    }

    /// The value at a path from the event root (`data.x`, `id`, ...), or from a button's roots.
    public func resolveFromEvent(_ path: JSONPath) -> JSONValue? {
        guard case .key(let first) = path.segments[0] else { return nil }
        let root: JSONValue?
        if let action = box.action {
            root = action.bindingValue(forRoot: first)
        } else if let roots = box.roots {
            root = roots[first]
        } else {
            root = event.bindingValue(forRoot: first)
        }
        guard let root else { return nil }
        return path.segments.count == 1 ? root : path.resolve(in: root, from: 1)
    }
}
