import DequeModule

/// Sliding-window rate limits over one key (a conversation, a tenant): a request is admitted only if,
/// for every window, fewer than `count` admitted requests fall within the last `length`.
/// Refused requests are not counted. The emulator enforces Teams' limits with it; the engine uses it to
/// stay under them.
public struct SlidingWindowLimiter: Sendable {
    public struct Window: Sendable, Hashable {
        public var count: Int
        public var length: Duration

        public init(count: Int, length: Duration) {
            self.count = count
            self.length = length
        }
    }

    /// Windows ordered by length.
    private let windows: [Window]
    private var admitted: Deque<ContinuousClock.Instant> = []

    public init(windows: [Window]) {
        self.windows = windows.sorted { $0.length < $1.length }
    }

    /// Admits and records a request at `now`, or returns how long until one would be admitted.
    public mutating func admit(now: ContinuousClock.Instant) -> Duration? {
        if let wait = self.wait(now: now) { return wait }
        self.record(now: now)
        return nil
    }

    /// Records an admitted request (after ``wait(now:)`` said there was room). Requests are kept in time order
    /// whatever order they are recorded in (one that arrived earlier may be served a little later).
    public mutating func record(now: ContinuousClock.Instant) {
        self.insertInOrder(now)
    }

    /// Moves a recorded request from `recorded` to `actual` (it was recorded when it was planned to leave and
    /// left later), keeping the order. Nothing happens when no request was recorded at `recorded`.
    public mutating func move(_ recorded: ContinuousClock.Instant, to actual: ContinuousClock.Instant) {
        guard recorded != actual, let index = self.admitted.lastIndex(of: recorded) else { return }
        self.admitted.remove(at: index)
        self.insertInOrder(actual)
    }

    /// Inserts `instant` after every recorded one not later than it: an append, unless it is out of order.
    private mutating func insertInOrder(_ instant: ContinuousClock.Instant) {
        var position = self.admitted.count
        while position > 0, self.admitted[position - 1] > instant { position -= 1 }
        if position == self.admitted.count {
            self.admitted.append(instant)
        } else {
            self.admitted.insert(instant, at: position)
        }
    }

    /// How long until a request would be admitted, or nil when it would be now. Nothing is recorded.
    public mutating func wait(now: ContinuousClock.Instant) -> Duration? {
        guard let longest = self.windows.last else { return nil }
        let horizon = now - longest.length
        while let first = self.admitted.first, first <= horizon {
            self.admitted.removeFirst()
        }
        var wait = Duration.zero
        for window in self.windows {
            let inWindow = self.admitted.count - self.firstIndex(after: now - window.length)
            if inWindow >= window.count {
                // Capacity frees up when the request `count` places back from the newest leaves the window.
                let blocking = self.admitted[self.admitted.count - window.count]
                wait = max(wait, blocking + window.length - now)
            }
        }
        return wait > .zero ? wait : nil
    }

    /// The index of the first admitted request later than `cutoff` (binary search; the deque is sorted).
    private func firstIndex(after cutoff: ContinuousClock.Instant) -> Int {
        var low = 0
        var high = self.admitted.count
        while low < high {
            let middle = (low + high) / 2
            if self.admitted[middle] <= cutoff { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
