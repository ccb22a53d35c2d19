import ChildProcess
import Foundation
import Store
import Testing

/// Restarts a PostgreSQL server of its own (started with scripts/postgres.sh under a unique name), so the shared
/// test server the other suites use is never interrupted.
@Suite("PostgreSQL restart", .timeLimit(.minutes(3)))
struct PostgresRestartTests {
    static func script() throws -> URL {
        guard let path = ProcessInfo.processInfo.environment["HERALD_TEST_POSTGRES_SCRIPT"], !path.isEmpty else {
            throw MissingPostgres()
        }
        return URL(fileURLWithPath: path)
    }

    static func control(_ arguments: [String]) async throws -> [String] {
        // The script's last line says it succeeded: its exit is not awaited, since a server it starts lives on.
        let process = ChildProcess(try script(), arguments)
        try process.start()
        let done = "# postgres.sh \(arguments[0]) ok"
        let last = try await withDeadline(.seconds(120), "postgres.sh \(arguments[0])") {
            await process.line(containing: done)
        }
        guard last == done else {
            throw TimedOut(description: "postgres.sh \(arguments.joined(separator: " ")) failed: \(process.text(of: .stderr))")
        }
        return process.stdoutLines
    }

    @Test func callsFailRetryablyWhileTheServerIsDownThenRecoverWithoutLosingWrites() async throws {
        let name = "restart-\(UUID().uuidString.prefix(8).lowercased())"
        let up = try await Self.control(["up", name])
        guard let export = up.first(where: { $0.contains("HERALD_TEST_POSTGRES_URL=") }),
            let start = export.firstIndex(of: "'"), let end = export.lastIndex(of: "'"), start < end
        else { throw TimedOut(description: "postgres.sh up printed no URL") }
        let url = String(export[export.index(after: start)..<end])
        do {
            var options = StoreOptions()
            // Long enough for the first migration on a loaded machine; the one call made while the server is
            // down fails at it.
            options.operationTimeout = .seconds(20)
            try await withStore(url: url, logger: testLogger, options: options) { store in
                try await store.upsertReferences((0..<50).map { reference("before-\($0)") })
                _ = try await store.claim(["d-before"], worker: "w", lease: .seconds(600), now: Date())

                _ = try await Self.control(["stop", name])
                let error = await #expect(throws: StoreError.self) {
                    try await store.upsertReferences([reference("during")])
                }
                #expect(
                    error?.isRetryable == true, "a stopped server is a retryable failure: \(String(describing: error))")
                #expect(error.map { !"\($0)".contains("herald-test-pw") } == true, "no password in errors")

                _ = try await Self.control(["start", name])
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
            _ = try? await Self.control(["down", name])
            throw error
        }
        _ = try await Self.control(["down", name])
    }
}
