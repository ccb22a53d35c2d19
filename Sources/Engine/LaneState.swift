import DequeModule

/// Deliveries to one conversation run one at a time, in the order they were admitted; deliveries to
/// different conversations run in parallel. How many are admitted is the caller's to bound (the worker pauses
/// its partitions at `delivery.maxInFlight`).
///
/// A plain state machine: ``Lanes`` keeps it behind a lock and performs what its methods return.
public struct LaneState<Key: Hashable & Sendable, Item: Sendable>: Sendable {
    /// What the caller does with an admitted item.
    public enum Admission: Sendable {
        /// The key was idle: start a lane for it, beginning with this item.
        case startLane(Item)
        /// The key's lane is busy: the item runs after those before it.
        case queued
    }

    /// Per active key, the items waiting behind the one running.
    private var lanes: [Key: Deque<Item>] = [:]
    /// Items admitted and not finished, running or waiting.
    public private(set) var admitted = 0
    public init() {}

    /// Keys with a running lane.
    public var activeLanes: Int { lanes.count }

    /// Admits `item` for `key`.
    public mutating func admit(_ item: Item, key: Key) -> Admission {
        admitted += 1
        if lanes[key] != nil {
            lanes[key]!.append(item)
            return .queued
        }
        lanes[key] = []
        return .startLane(item)
    }

    /// The lane of `key` finished an item: returns the next one to run on it, or nil when the lane is done.
    public mutating func finish(key: Key) -> Item? {
        precondition(lanes[key] != nil, "finish for a key without a lane")
        admitted -= 1
        if let next = lanes[key]!.popFirst() { return next }
        lanes[key] = nil
        return nil
    }
}
