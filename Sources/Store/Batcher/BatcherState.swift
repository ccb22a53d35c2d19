/// The state of a ``Batcher``: queued items, callers waiting for results, and how many callers are currently
/// flushing ("leaders"). Plain value type, used behind a `Mutex`; every method returns what the caller must do
/// outside the lock. Tested without I/O.
@usableFromInline
struct BatcherState<Item: Sendable, Output: Sendable>: Sendable {
    /// What a waiting caller is resumed with.
    @usableFromInline
    enum Signal: Sendable {
        case done(Result<Output, any Error>)
        /// Become a leader: flush queued batches.
        case lead
    }

    @usableFromInline typealias Ticket = UInt64

    @usableFromInline var queue: [(Ticket, Item)] = []
    @usableFromInline var head = 0
    @usableFromInline var waiting: [Ticket: CheckedContinuation<Signal, Never>] = [:]
    @usableFromInline var ready: [Ticket: Signal] = [:]
    @usableFromInline var leaders = 0
    @usableFromInline var nextTicket: Ticket = 0
    @usableFromInline let maxLeaders: Int

    @inlinable
    init(maxLeaders: Int) {
        self.maxLeaders = max(1, maxLeaders)
    }

    @inlinable
    var queuedCount: Int { queue.count - head }

    /// Queues `item`; the caller leads (flushes) if fewer than `maxLeaders` do.
    @inlinable
    mutating func enqueue(_ item: Item) -> (ticket: Ticket, leads: Bool) {
        let ticket = nextTicket
        nextTicket += 1
        queue.append((ticket, item))
        guard leaders < maxLeaders else { return (ticket, false) }
        leaders += 1
        return (ticket, true)
    }

    /// Takes up to `max` queued items, oldest first (empty when nothing is queued).
    @inlinable
    mutating func nextBatch(max: Int) -> [(Ticket, Item)] {
        let end = Swift.min(queue.count, head + Swift.max(1, max))
        let batch = Array(queue[head..<end])
        head = end
        if head > 1024, head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        return batch
    }

    /// Records `signal` for `ticket`: returns the continuation to resume if its caller already waits.
    @inlinable
    mutating func deliver(_ signal: Signal, to ticket: Ticket) -> CheckedContinuation<Signal, Never>? {
        if let continuation = waiting.removeValue(forKey: ticket) { return continuation }
        ready[ticket] = signal
        return nil
    }

    /// The caller of `ticket` waits: returns its signal at once if it is already there.
    @inlinable
    mutating func attach(_ ticket: Ticket, _ continuation: CheckedContinuation<Signal, Never>) -> Signal? {
        if let signal = ready.removeValue(forKey: ticket) { return signal }
        waiting[ticket] = continuation
        return nil
    }

    /// A leader is done with its own item. If items are still queued, leadership passes to the caller of the
    /// oldest one (returned: deliver `.lead` to it); else the leader count drops.
    @inlinable
    mutating func stopLeading() -> Ticket? {
        if head < queue.count { return queue[head].0 }
        leaders -= 1
        return nil
    }
}
