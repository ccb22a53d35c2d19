import ChildProcess
import Foundation
import Store
import TestSupport
import Testing

/// Restarts a PostgreSQL server of its own (started with scripts/postgres.sh under a unique name), so the shared
/// test server the other suites use is never interrupted.
@Suite("PostgreSQL restart", .timeLimit(.minutes(3)))
struct PostgresRestartTests {
    @Test func callsFailRetryablyWhileTheServerIsDownThenRecoverWithoutLosingWrites() async throws {
        let postgres = try await ScratchPostgres.start(prefix: "restart")
        let url = postgres.url
        do {
            var options = StoreOptions()
            // Long enough for the first migration on a loaded machine; the one call made while the server is
            // down fails at it.
            options.operationTimeout = .seconds(20)
            try await withStore(url: url, logger: testLogger, options: options) { store in
                try await store.upsertReferences((0..<50).map { reference("before-\($0)") })
                _ = try await store.claim(["d-before"], worker: "w", lease: .seconds(600), now: Date())

                try await postgres.control("stop")
                let error = await #expect(throws: StoreError.self) {
                    try await store.upsertReferences([reference("during")])
                }
                #expect(
                    error?.isRetryable == true, "a stopped server is a retryable failure: \(String(describing: error))")
                #expect(error.map { !"\($0)".contains(ScratchPostgres.password) } == true, "no password in errors")

                try await postgres.control("start")
                try await eventually(within: .seconds(60), "the store to accept writes again") {
                    (try? await store.upsertReferences([reference("after")])) != nil
                }
                for i in 0..<50 {
                    #expect(try await store.reference(key: "before-\(i)") != nil, "acknowledged write before-\(i) lost")
                }
                #expect(try await store.ledgerEntry(deliveryId: "d-before")?.state == .claimed)
                #expect(try await store.reference(key: "after") != nil)
            }
        } catch {
            try? await postgres.control("down")
            throw error
        }
        try await postgres.control("down")
    }
}
