import Foundation
import Store
import Testing

@Suite("Several processes on one store", .timeLimit(.minutes(3)))
struct MultiProcessTests {
    @Test(arguments: Backend.allCases)
    func twoProcessesAndThisOneNeverClaimOneDeliveryTwice(_ backend: Backend) async throws {
        let location = try TestLocation.make(backend)
        defer { location.cleanUp() }
        try await withStore(url: location.url, logger: testLogger, options: location.options) { _ in }  // migrated
        let count = 400
        let arguments = { (worker: String) in
            [
                "store", "claim", "--store", location.processURL, "--worker", worker, "--prefix", "p", "--count",
                "\(count)",
            ]
        }
        let first = try ChildProcess(arguments("proc-1"))
        let second = try ChildProcess(arguments("proc-2"))
        let here = try await withStore(url: location.url, logger: testLogger, options: location.options) { store in
            let ledger = DeliveryLedger(store: store, worker: "in-test", lease: .seconds(600), maxBatchSize: 32)
            return try await withThrowingTaskGroup(of: String?.self) { group in
                for i in (0..<count).reversed() {
                    group.addTask { try await ledger.claim("p-\(i)") == .claimed ? "p-\(i)" : nil }
                }
                return try await group.reduce(into: [String]()) { if let id = $1 { $0.append(id) } }
            }
        }
        let (out1, out2) = try await withDeadline(.seconds(120), "the claiming processes") {
            async let a = first.allLines()
            async let b = second.allLines()
            return await (a, b)
        }
        #expect(await first.waitForExit() == 0, "\(first.stderr)")
        #expect(await second.waitForExit() == 0, "\(second.stderr)")
        #expect(out1.last?.hasPrefix("done ") == true)
        let claimed = out1.dropLast().filter { !$0.isEmpty } + out2.dropLast().filter { !$0.isEmpty } + here
        #expect(claimed.count == count, "each delivery claimed by exactly one of the three workers")
        #expect(Set(claimed) == Set((0..<count).map { "p-\($0)" }))
    }

    @Test func sqliteKeepsEveryAcknowledgedWriteWhenTheWriterIsKilled() async throws {
        let location = try TestLocation.make(.sqlite)
        defer { location.cleanUp() }
        let writer = try ChildProcess([
            "store", "write-loop", "--store", location.url, "--prefix", "w", "--count", "100000",
        ])
        let acknowledged = try await withDeadline(.seconds(60), "300 acknowledged writes") { [lines = writer.lines] in
            var seen: [Int] = []
            for await line in lines {
                if line.hasPrefix("ack "), let n = Int(line.dropFirst(4)) { seen.append(n) }
                if seen.count >= 300 { return seen }
            }
            return seen
        }
        writer.kill(SIGKILL)  // mid-write: more writes are in flight
        #expect(await writer.waitForExit() == SIGKILL)
        #expect(acknowledged.count == 300, "\(writer.stderr)")
        try await withStore(url: location.url, logger: testLogger, options: location.options) {
            (store) async throws -> Void in
            for n in acknowledged {
                #expect(try await store.reference(key: "w-\(n)") != nil, "acknowledged reference w-\(n) lost")
                #expect(
                    try await store.ledgerEntry(deliveryId: "w-\(n)")?.state == .sent, "acknowledged send w-\(n) lost")
            }
        }
    }
}
