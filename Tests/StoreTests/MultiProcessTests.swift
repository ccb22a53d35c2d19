import ChildProcess
import Engine
import Foundation
import Store
import TestSupport
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
        let first = ChildProcess(heraldBinary, arguments("proc-1"))
        let second = ChildProcess(heraldBinary, arguments("proc-2"))
        try first.start()
        try second.start()
        let here = try await withStore(url: location.url, logger: testLogger, options: location.options) { store in
            let ledger = DeliveryLedger(store: store, worker: "in-test", lease: .seconds(600), maxBatchSize: 32)
            return try await withThrowingTaskGroup(of: String?.self) { group in
                for i in (0..<count).reversed() {
                    group.addTask { try await ledger.claim("p-\(i)") == .claimed ? "p-\(i)" : nil }
                }
                return try await group.reduce(into: [String]()) { if let id = $1 { $0.append(id) } }
            }
        }
        let firstExit = await first.exit(timeout: .seconds(120))
        let secondExit = await second.exit(timeout: .seconds(120))
        #expect(firstExit == .init(status: 0, signalled: false, timedOut: false), "\(first.text(of: .stderr))")
        #expect(secondExit == .init(status: 0, signalled: false, timedOut: false), "\(second.text(of: .stderr))")
        let (out1, out2) = (first.stdoutLines, second.stdoutLines)
        #expect(out1.last?.hasPrefix("done ") == true)
        let claimed = out1.dropLast().filter { !$0.isEmpty } + out2.dropLast().filter { !$0.isEmpty } + here
        #expect(claimed.count == count, "each delivery claimed by exactly one of the three workers")
        #expect(Set(claimed) == Set((0..<count).map { "p-\($0)" }))
    }

    @Test func sqliteKeepsEveryAcknowledgedWriteWhenTheWriterIsKilled() async throws {
        let location = try TestLocation.make(.sqlite)
        defer { location.cleanUp() }
        let writer = ChildProcess(
            heraldBinary, ["store", "write-loop", "--store", location.url, "--prefix", "w", "--count", "100000"])
        try writer.start()
        let threeHundredth = try await withDeadline(.seconds(60), "300 acknowledged writes") {
            await writer.line(containing: "ack 299")
        }
        #expect(threeHundredth == "ack 299", "\(writer.text(of: .stderr))")
        writer.kill()  // SIGKILL mid-write: more writes are in flight
        let termination = await writer.exit(timeout: .seconds(30))
        #expect(termination.signalled && termination.status == SIGKILL)
        // Every write acknowledged before the kill, including those after the 300th.
        let acknowledged = writer.stdoutLines.compactMap { $0.hasPrefix("ack ") ? Int($0.dropFirst(4)) : nil }
        #expect(acknowledged.count >= 300)
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
