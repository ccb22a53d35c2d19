import Synchronization

/// Runs items through ``LaneState``: one child task per busy key, working through that key's items in order,
/// inside the caller's task group. Admission never waits: the caller bounds what it admits (the worker pauses
/// its partitions rather than block its poll loop, which would get it thrown out of the group).
public final class Lanes<Key: Hashable & Sendable, Item: Sendable>: Sendable {
    private struct Guarded {
        var lanes: LaneState<Key, Item>
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<Guarded>
    private let process: @Sendable (Item) async -> Void

    /// `process` handles one item; it is never called concurrently for items of the same key.
    public init(process: @escaping @Sendable (Item) async -> Void) {
        state = Mutex(Guarded(lanes: LaneState()))
        self.process = process
    }

    /// Items admitted and not finished.
    public var admitted: Int { state.withLock { $0.lanes.admitted } }

    /// Admits `item`; a new lane runs as a child task of `group`.
    public func admit(_ item: Item, key: Key, in group: inout DiscardingTaskGroup) async {
        let admission = state.withLock { $0.lanes.admit(item, key: key) }
        guard case .startLane(let first) = admission else { return }
        group.addTask { [self] in
            var next: Item? = first
            while let item = next {
                await process(item)
                next = finished(key: key)
            }
        }
    }

    /// Waits until every admitted item has finished.
    public func waitUntilIdle() async {
        await withCheckedContinuation { continuation in
            let idle = state.withLock { guarded in
                if guarded.lanes.admitted == 0 { return true }
                guarded.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    private func finished(key: Key) -> Item? {
        let (next, resume) = state.withLock { guarded -> (Item?, [CheckedContinuation<Void, Never>]) in
            let next = guarded.lanes.finish(key: key)
            var resume: [CheckedContinuation<Void, Never>] = []
            if guarded.lanes.admitted == 0 {
                resume = guarded.idleWaiters
                guarded.idleWaiters = []
            }
            return (next, resume)
        }
        for continuation in resume { continuation.resume() }
        return next
    }
}
