import Store

/// Waits for `body` at most `limit`: true when it finished in time. When it did not, `body` is cancelled and
/// left to end on its own while the caller moves on; for steps that may block in C (librdkafka's close and
/// commit, a store that stopped answering) at shutdown, where waiting forever is worse than leaving work to
/// the group.
func finishes(within limit: Duration, _ body: @escaping @Sendable () async -> Void) async -> Bool {
    struct TimedOut: Error {}
    do {
        try await abandoning(after: limit, body, timedOut: { TimedOut() })
        return true
    } catch {
        return false
    }
}
