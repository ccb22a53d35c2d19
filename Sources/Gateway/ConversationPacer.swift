import RateLimiting
import Synchronization

/// Keeps the gateway's own Bot Connector calls (a card updated after a button, a reply) within Teams'
/// per-conversation limits (7/1 s, 8/2 s, 60/30 s, 1800/3600 s), as the workers' rate governor does for sends.
final class ConversationPacer: Sendable {
    static let windows: [SlidingWindowLimiter.Window] = [
        .init(count: 7, length: .seconds(1)), .init(count: 8, length: .seconds(2)),
        .init(count: 60, length: .seconds(30)), .init(count: 1800, length: .seconds(3600)),
    ]
    /// Conversations remembered at most; past it the oldest histories are forgotten (a burst over this many
    /// conversations at once is paced by Teams' 429s and the retries instead).
    static let maxConversations = 10_000
    /// Longest wait for capacity before the call is made anyway (Teams then answers 429, which is retried).
    static let maxWait: Duration = .seconds(30)

    private let limiters = Mutex<[String: SlidingWindowLimiter]>([:])

    /// Returns when a call to `conversation` fits Teams' windows (recording it), or after ``maxWait``.
    func admit(_ conversation: String) async {
        var waited = Duration.zero
        while waited < Self.maxWait {
            let wait: Duration? = limiters.withLock { limiters in
                if limiters[conversation] == nil, limiters.count >= Self.maxConversations { limiters.removeAll() }
                return limiters[conversation, default: SlidingWindowLimiter(windows: Self.windows)]
                    .admit(now: .now)
            }
            guard let wait else { return }
            let step = min(wait, Self.maxWait - waited)
            try? await Task.sleep(for: step)
            waited += step
        }
    }
}
