import ChildProcess
import Foundation
import Kafka
import TeamsEmulator
import Testing

/// `herald run` as a process, against the embedded Kafka cluster over TCP and the Teams emulator over HTTP.
extension EndToEnd {
    @Suite("Delivery end to end", .serialized)
    struct DeliveryTests {
        @Test func everyDeliveryHasOneOutcomeAndEveryMessageArrivesOnceInOrder() async throws {
            let rig = try await DeliveryRig(
                emulator: EmulatorConfiguration(appId: DeliveryRig.appId, appPassword: DeliveryRig.appPassword))
            defer { Task { await rig.shutdown() } }
            let events = DeliveryRig.notifyEvents(count: 2000, recipients: 500)
            try await rig.publish(events)
            let worker = try await rig.startWorker()
            defer { worker.kill() }

            let outcomes = try await rig.outcomes(finalCount: 2000)
            try await rig.expectEachDeliveredOnceInOrder(outcomes, count: 2000)
            #expect(try await rig.emulator.conversations().count == 500)

            worker.terminate()
            #expect(await worker.exit(timeout: .seconds(30)) == .init(status: 0, signalled: false, timedOut: false))
        }
    }
}

extension EndToEnd.DeliveryTests {
    /// The emulator with Teams' limits; `latency` slows every answer so a run lasts long enough to interrupt.
    static func teams(
        latency: Duration = .zero, faults: EmulatorConfiguration.Faults = .init()
    ) -> EmulatorConfiguration {
        EmulatorConfiguration(
            appId: DeliveryRig.appId, appPassword: DeliveryRig.appPassword, latency: latency, faults: faults)
    }

    /// Waits until `count` final outcomes are published (a point in the run to interrupt it at).
    static func waitForOutcomes(_ rig: DeliveryRig, _ count: Int) async throws {
        let outcomes = try await rig.outcomes(finalCount: count, timeout: .seconds(60))
        try #require(outcomes.filter(\.isFinal).count >= count, "the run got going")
    }

    @Test func sigtermDrainsCommitsAndExitsZeroAndARestartFinishesWithoutDuplicates() async throws {
        let rig = try await DeliveryRig(emulator: Self.teams(latency: .milliseconds(20)))
        defer { Task { await rig.shutdown() } }
        try await rig.publish(DeliveryRig.notifyEvents(count: 1500, recipients: 300, tenants: 2))
        let first = try await rig.startWorker()
        defer { first.kill() }
        try await Self.waitForOutcomes(rig, 200)

        first.terminate()
        let termination = await first.exit(timeout: .seconds(40))
        #expect(termination == .init(status: 0, signalled: false, timedOut: false), "drains and exits 0")
        #expect(first.text(of: .stderr).contains("worker stopped"))
        let beforeRestart = try await rig.outcomes(finalCount: 0, timeout: .seconds(2)).filter(\.isFinal).count
        #expect(beforeRestart < 1500, "SIGTERM came mid-run")

        let second = try await rig.startWorker()
        defer { second.kill() }
        let outcomes = try await rig.outcomes(finalCount: 1500)
        try await rig.expectEachDeliveredOnceInOrder(outcomes, count: 1500)
    }

    @Test func aWorkerKilledMidRunLosesNothingAndDuplicatesNothing() async throws {
        let environment = ProcessInfo.processInfo.environment
        let rig = try await DeliveryRig(
            emulator: Self.teams(latency: .milliseconds(10)), storeURL: environment["HERALD_TEST_POSTGRES_URL"])
        defer { Task { await rig.shutdown() } }
        try await rig.publish(DeliveryRig.notifyEvents(count: 3000, recipients: 600, tenants: 6))
        var workers = [try await rig.startWorker(), try await rig.startWorker(), try await rig.startWorker()]
        defer { for worker in workers { worker.kill() } }
        try await Self.waitForOutcomes(rig, 500)

        workers[0].kill()
        #expect(await workers[0].exit(timeout: .seconds(10)).signalled)
        workers.append(try await rig.startWorker())

        let outcomes = try await rig.outcomes(finalCount: 3000, timeout: .seconds(240))
        try await rig.expectEachDeliveredOnceInOrder(outcomes, count: 3000, afterCrash: true)
        let byWorker = Set(outcomes.filter(\.isFinal).map(\.worker))
        #expect(byWorker.count >= 3, "the group shared the work: \(byWorker)")
    }

    @Test func aBrokerOutageOfTenSecondsLosesNothing() async throws {
        let rig = try await DeliveryRig(emulator: Self.teams(latency: .milliseconds(10)))
        defer { Task { await rig.shutdown() } }
        try await rig.publish(DeliveryRig.notifyEvents(count: 1500, recipients: 300, tenants: 3))
        let worker = try await rig.startWorker()
        defer { worker.kill() }
        try await Self.waitForOutcomes(rig, 200)

        rig.kafka.beginOutage()
        // The outage itself lasts ten seconds: this is the fault being injected, not a wait for a condition.
        try await Task.sleep(for: .seconds(10))
        rig.kafka.endOutage()

        let outcomes = try await rig.outcomes(finalCount: 1500, timeout: .seconds(180))
        try await rig.expectEachDeliveredOnceInOrder(outcomes, count: 1500)
        #expect(worker.isRunning, "the worker rode out the outage")
    }

    @Test func teamsFaultsAreRetriedUntilEverythingIsDeliveredOnce() async throws {
        var faults = EmulatorConfiguration.Faults()
        faults.badGateway = 0.034
        faults.serviceUnavailable = 0.033
        faults.gatewayTimeout = 0.033
        faults.throttled = 0.05
        faults.dropConnection = 0.02
        faults.preconditionFailed = 0.01
        let rig = try await DeliveryRig(emulator: Self.teams(faults: faults))
        defer { Task { await rig.shutdown() } }
        try await rig.publish(DeliveryRig.notifyEvents(count: 1000, recipients: 250))
        let worker = try await rig.startWorker()
        defer { worker.kill() }

        let outcomes = try await rig.outcomes(finalCount: 1000, timeout: .seconds(180))
        try await rig.expectEachDeliveredOnceInOrder(outcomes, count: 1000)
        #expect(try await rig.emulator.stats().errors > 0, "faults were injected")
        #expect(outcomes.contains { $0.attempts > 1 }, "deliveries were retried")
    }

    @Test func underTeamsLimitsAlmostNothingIsThrottled() async throws {
        let rig = try await DeliveryRig(emulator: Self.teams())
        defer { Task { await rig.shutdown() } }
        // One tenant over its 50 requests/s, and one conversation over its thread limits.
        var events = DeliveryRig.notifyEvents(count: 600, recipients: 300, tenants: 1, run: "busy")
        events += (0..<40).map { index in
            let data: [String: Any] = ["user": "busy-hot", "tenant": "tenant-0", "seq": 600 + index]
            return ("busy-hot", DeliveryRig.event(id: "busy-hot-\(600 + index)", type: "test.notify", data: data))
        }
        try await rig.publish(events)
        let worker = try await rig.startWorker()
        defer { worker.kill() }

        let outcomes = try await rig.outcomes(finalCount: 640, timeout: .seconds(180))
        try await rig.expectEachDeliveredOnceInOrder(outcomes, count: 640)
        let stats = try await rig.emulator.stats()
        #expect(
            Double(stats.throttled) < Double(stats.apiRequests) * 0.01,
            "\(stats.throttled) of \(stats.apiRequests) throttled")
    }
}
