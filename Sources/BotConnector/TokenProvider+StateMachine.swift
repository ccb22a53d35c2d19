extension TokenProvider {
    /// What a caller asking for a token gets.
    enum Acquired: Sendable, Equatable {
        /// Use this token.
        case token(String)
        /// The caller must fetch a new token and report with `fetched` or `failed`.
        case fetch
    }

    /// The token cache: at most one refresh in flight, every other caller waits for its result.
    /// Pure logic, generic over how a waiter is resumed (a continuation in the provider, anything in
    /// tests); the provider performs the actions it returns outside the lock.
    struct StateMachine<Waiter> {
        enum AcquireAction {
            case resume(Acquired)
            /// The waiter was queued behind the refresh in flight.
            case wait
        }

        private enum State {
            case empty
            case valid(token: String, refreshAt: ContinuousClock.Instant)
            case fetching(waiters: [Waiter])
        }

        private var state: State = .empty

        /// The cached token when it is still fresh.
        func freshToken(now: ContinuousClock.Instant) -> String? {
            if case .valid(let token, let refreshAt) = self.state, now < refreshAt { return token }
            return nil
        }

        mutating func acquire(now: ContinuousClock.Instant, waiter: Waiter) -> AcquireAction {
            switch self.state {
            case .valid(let token, let refreshAt) where now < refreshAt:
                return .resume(.token(token))
            case .empty, .valid:
                self.state = .fetching(waiters: [])
                return .resume(.fetch)
            case .fetching(var waiters):
                waiters.append(waiter)
                self.state = .fetching(waiters: waiters)
                return .wait
            }
        }

        /// Stores the new token; returns the waiters to resume with it.
        mutating func fetched(token: String, refreshAt: ContinuousClock.Instant) -> [Waiter] {
            guard case .fetching(let waiters) = self.state else {
                self.state = .valid(token: token, refreshAt: refreshAt)
                return []
            }
            self.state = .valid(token: token, refreshAt: refreshAt)
            return waiters
        }

        /// The refresh failed; returns the waiters to fail with its error.
        mutating func failed() -> [Waiter] {
            guard case .fetching(let waiters) = self.state else { return [] }
            self.state = .empty
            return waiters
        }

        /// Forgets `token` if it is still the cached one (the API refused it); a newer token is kept.
        mutating func invalidate(_ token: String) {
            if case .valid(let current, _) = self.state, current == token {
                self.state = .empty
            }
        }
    }
}
