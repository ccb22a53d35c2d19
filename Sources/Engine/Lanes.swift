import Synchronization

/// Runs items through ``LaneState``: one child task per busy key, working through that key's items in order,
/// inside the caller's task group; ``admit(_:key:in:)`` waits while the limit is reached (backpressure).
public final class Lanes<Key: Hashable & Sendable, Item: Sendable>: Sendable {
    private struct Guarded {
        var lanes: LaneState<Key, Item>
        var roomWaiters: [CheckedContinuation<Void, Never>] = []
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<Guarded>
    private let process: @Sendable (Item) async -> Void

    /// `process` handles one item; it is never called concurrently for items of the same key.
    public init(limit: Int, process: @escaping @Sendable (Item) async -> Void) {
        state = Mutex(Guarded(lanes: LaneState(limit: limit)))
        self.process = process
    }

    /// Items admitted and not finished.
    public var admitted: Int { state.withLock { $0.lanes.admitted } }

    /// Callers of ``admit(_:key:in:)`` waiting for room: non-zero while input is held back.
    public var waitingForRoom: Int { state.withLock { $0.roomWaiters.count } }

    /// Waits for room under the limit, then admits `item`; a new lane runs as a child task of `group`.
    public func admit(_ item: Item, key: Key, in group: inout DiscardingTaskGroup) async {
        var admission: LaneState<Key, Item>.Admission?
        while admission == nil {
            // Checking for room and admitting happen under one lock, so two admitters cannot both take the
            // last place.
            admission = state.withLock { $0.lanes.hasRoom ? $0.lanes.admit(item, key: key) : nil }
            if admission == nil { await waitForRoom() }
        }
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

    private func waitForRoom() async {
        await withCheckedContinuation { continuation in
            let room = state.withLock { guarded in
                if guarded.lanes.hasRoom { return true }
                guarded.roomWaiters.append(continuation)
                return false
            }
            if room { continuation.resume() }
        }
    }

    private func finished(key: Key) -> Item? {
        let (next, resume) = state.withLock { guarded -> (Item?, [CheckedContinuation<Void, Never>]) in
            let next = guarded.lanes.finish(key: key)
            var resume: [CheckedContinuation<Void, Never>] = []
            if !guarded.roomWaiters.isEmpty { resume.append(guarded.roomWaiters.removeFirst()) }
            if guarded.lanes.admitted == 0 {
                resume += guarded.idleWaiters
                guarded.idleWaiters = []
            }
            return (next, resume)
        }
        for continuation in resume { continuation.resume() }
        return next
    }
}
