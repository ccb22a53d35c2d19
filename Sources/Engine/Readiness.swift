import BotConnector
import Foundation
import Logging
import Metrics
import Store
import Synchronization

/// Whether this worker can do its job, for `/readyz`: it has joined its consumer group, the store answers, a
/// Teams token was obtained, and it is not draining.
///
/// ``checks(of:logger:)``, a service run beside the worker, attaches the worker and checks the store and the token
/// every ``interval`` until the group shuts it down. Each check also refreshes the
/// `herald_ready` and `herald_deliveries_deferred` gauges.
public final class Readiness: Sendable {
    /// One failed check: what and why, safe to show (no secrets).
    public struct Problem: Sendable, Equatable {
        public var check: String
        public var reason: String

        public init(check: String, reason: String) {
            self.check = check
            self.reason = reason
        }
    }

    private struct State {
        var worker: Worker?
        var store: String? = "not checked yet"
        var token: String? = "not obtained yet"
    }

    /// Time between checks. Default: 2 s.
    public let interval: Duration
    /// How long one check may take before it counts as failed. Default: 2 s.
    public let timeout: Duration
    private let state = Mutex(State())
    /// `herald_ready`: 1 when ready, else 0 (from the start: an alert on 0 sees a worker that never became ready).
    private let ready = Gauge(label: "herald_ready")

    public init(interval: Duration = .seconds(2), timeout: Duration = .seconds(2)) {
        self.interval = interval
        self.timeout = timeout
        ready.record(0)
    }

    /// What stops the worker being ready; empty when it is ready.
    public func problems() -> [Problem] {
        let state = self.state.withLock { $0 }
        var problems: [Problem] = []
        if let worker = state.worker {
            if worker.isDraining { problems.append(Problem(check: "worker", reason: "draining")) }
            if !worker.hasJoinedGroup {
                problems.append(Problem(check: "kafka", reason: "consumer group not joined yet"))
            }
        } else {
            problems.append(Problem(check: "worker", reason: "starting"))
        }
        if let reason = state.store { problems.append(Problem(check: "store", reason: reason)) }
        if let reason = state.token { problems.append(Problem(check: "token", reason: reason)) }
        return problems
    }

    /// Checks the store and the token every ``interval`` until cancelled.
    func monitor(_ worker: Worker, store: any HeraldStore, client: BotConnectorClient, logger: Logger) async {
        state.withLock { $0.worker = worker }
        let metrics = worker.stats.metrics
        var reported: [Problem]?
        var tokenReported: String?
        while !Task.isCancelled {
            let deferred = await within(timeout) { try await store.deferredCount() }
            if case .success(let count) = deferred { metrics.deferred.record(count) }
            let token = await within(timeout) { _ = try await client.tokens.token() }
            state.withLock { ($0.store, $0.token) = (deferred.problem, token.problem) }
            if token.problem != tokenReported {
                // Said once per reason, in a line of its own: every delivery fails until it is fixed (a refused
                // credential, a single-tenant bot on the wrong tenant), and readiness lines change as others do.
                tokenReported = token.problem
                if let reason = token.problem { logger.error("cannot obtain a Teams token: \(reason)") }
            }
            let problems = problems()
            ready.record(problems.isEmpty ? 1 : 0)
            if problems != reported {
                reported = problems
                if problems.isEmpty {
                    logger.info("ready")
                } else {
                    logger.warning(
                        "not ready",
                        metadata: [
                            "problems": "\(problems.map { "\($0.check): \($0.reason)" }.joined(separator: "; "))"
                        ])
                }
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Runs `body`, failing it after `timeout`.
    private func within<T: Sendable>(
        _ timeout: Duration, _ body: @escaping @Sendable () async throws -> T
    ) async -> Result<T, CheckFailure> {
        await withTaskGroup(of: Result<T, CheckFailure>?.self) { group in
            group.addTask {
                do { return .success(try await body()) } catch { return .failure(CheckFailure(reason: "\(error)")) }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            return await group.next()!
                ?? .failure(CheckFailure(reason: "no answer within \(timeout)"))
        }
    }

    fileprivate struct CheckFailure: Error {
        var reason: String
    }
}

extension Result where Failure == Readiness.CheckFailure {
    /// Why the check failed; nil when it passed.
    fileprivate var problem: String? {
        if case .failure(let failure) = self { return failure.reason }
        return nil
    }
}
