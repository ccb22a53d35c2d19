import NIOHTTP1
import RateLimiting

extension EmulatorState {
    /// Checks the tenant's and the conversation's windows; records the call in both when it is admitted.
    mutating func throttle(
        at index: Dictionary<String, ConversationRecord>.Index, now: ContinuousClock.Instant
    ) -> Reply? {
        guard let windows = self.configuration.limits.conversationWindows,
            let tenantWindows = self.configuration.limits.tenantWindows
        else { return nil }
        let tenantId = self.conversations.values[index].conversation.tenantId
        if self.conversations.values[index].limiter == nil {
            self.conversations.values[index].limiter = SlidingWindowLimiter(windows: windows)
        }
        let tenantWait = self.tenantLimiters[tenantId, default: SlidingWindowLimiter(windows: tenantWindows)].wait(
            now: now)
        let conversationWait = self.conversations.values[index].limiter!.wait(now: now) ?? .zero
        let wait = max(tenantWait ?? .zero, conversationWait)
        guard wait == .zero else {
            return self.throttled(wait, by: conversationWait > .zero ? "conversation" : "tenant")
        }
        self.tenantLimiters[tenantId]!.record(now: now)
        self.conversations.values[index].limiter!.record(now: now)
        return nil
    }

    /// Checks the tenant's window and one keyed window (creates, member reads: `limit` names it in
    /// ``EmulatorStats/throttledBy``); records when admitted.
    mutating func throttle(
        _ limiters: WritableKeyPath<EmulatorState, [String: SlidingWindowLimiter]>,
        limit: String,
        key: String,
        windows: [SlidingWindowLimiter.Window],
        tenantId: String?,
        now: ContinuousClock.Instant
    ) -> Reply? {
        let keyedWait =
            self[keyPath: limiters][key, default: SlidingWindowLimiter(windows: windows)].wait(now: now) ?? .zero
        var wait = keyedWait
        if let tenantId, let tenantWindows = self.configuration.limits.tenantWindows {
            let tenantWait = self.tenantLimiters[tenantId, default: SlidingWindowLimiter(windows: tenantWindows)]
                .wait(now: now)
            wait = max(wait, tenantWait ?? .zero)
        }
        guard wait == .zero else { return self.throttled(wait, by: keyedWait > .zero ? limit : "tenant") }
        self[keyPath: limiters][key]!.record(now: now)
        if let tenantId { self.tenantLimiters[tenantId]?.record(now: now) }
        return nil
    }

    /// A 429 from the limit `by`, with `Retry-After` as the configuration says.
    mutating func throttled(_ wait: Duration, by limit: String) -> Reply {
        self.stats.throttledBy[limit, default: 0] += 1
        var reply = Self.error(.tooManyRequests, "Throttled", "Too many requests. Please slow down.")
        let withHeader: Bool
        switch self.configuration.retryAfter {
        case .always: withHeader = true
        case .never: withHeader = false
        case .alternate: withHeader = self.stats.throttled % 2 == 0
        }
        if withHeader {
            let (seconds, attoseconds) = wait.components
            reply.retryAfterSeconds = max(1, Int(seconds) + (attoseconds > 0 ? 1 : 0))
        }
        return reply
    }
}
