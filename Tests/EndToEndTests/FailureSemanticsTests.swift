import ChildProcess
import Foundation
import Kafka
import TeamsEmulator
import TestSupport
import Testing

/// What a user of the outcomes topic and the recipients see when workers are killed, brokers vanish, the group
/// rebalances, or everything is unreachable at shutdown: `herald run` processes, the mock cluster over TCP and
/// the emulator over HTTP, compared side by side.
extension EndToEnd {
    @Suite("Failure semantics", .serialized)
    struct FailureSemanticsTests {
        /// Three workers share one tenant's 50 requests/s; one is SIGKILLed a third of the way in.
        @Test(arguments: ["fail", "resend"])
        func aKilledWorkerLeavesUncertainOnlyTheRequestsOnTheWire(_ policy: String) async throws {
            let count = 900
            let rig = try await DeliveryRig(
                emulator: EndToEnd.DeliveryTests.teams(latency: .milliseconds(10)), delivery: "onUncertain: \(policy)")
            defer { Task { await rig.shutdown() } }
            try await rig.publish(DeliveryRig.notifyEvents(count: count, recipients: 300, tenants: 1))
            var workers = [try await rig.startWorker(), try await rig.startWorker(), try await rig.startWorker()]
            defer { for worker in workers { worker.kill() } }
            try await EndToEnd.DeliveryTests.waitForOutcomes(rig, count / 3)

            workers[0].kill()
            #expect(await workers[0].exit(timeout: .seconds(10)).signalled)
            workers.append(try await rig.startWorker())

            // The killed worker's claims are taken over once their 30 s lease ends.
            let outcomes = try await rig.outcomes(finalCount: count, timeout: .seconds(240))
            rig.expectNoContradiction(outcomes)
            let finals = outcomes.finalByDelivery.compactMapValues(\.first)
            #expect(finals.count == count, "one final outcome per delivery")
            let uncertain = finals.values.filter { $0.summary == "failed/DeliveryUncertain" }
            let delivered = finals.values.filter { $0.status == "delivered" }
            #expect(delivered.count + uncertain.count == count, "\(Set(finals.values.map(\.summary)))")

            let received = try await rig.receivedSequenceNumbers()
            let stats = try await rig.emulator.stats()
            let onTheWire = stats.unanswered
            let receivedSet = Set(received)
            let lost = uncertain.compactMap(\.sequence).filter { !receivedSet.contains($0) }
            print(
                "reliability: kill -9 of 1 of 3 workers, onUncertain \(policy): \(uncertain.count) uncertain, "
                    + "\(onTheWire) requests unanswered at Teams, \(lost.count) uncertain never received, "
                    + "\(received.count - receivedSet.count) received twice")
            // A kill cuts short the requests in flight: at Teams' rates a handful at most. A delivery that was
            // only waiting for a rate-limit slot is never among them. The emulator sees the requests whose answer
            // it could not write; the 2 allow for answers written but not yet read or recorded when the worker
            // died, which it cannot see.
            #expect(uncertain.count <= onTheWire + 2, "\(uncertain.count) uncertain, \(onTheWire) on the wire")
            #expect(lost.count <= 1, "uncertain deliveries Teams never received: \(lost)")
            #expect(Set(delivered.compactMap(\.sequence)).isSubset(of: receivedSet), "every delivered message arrived")
            if policy == "fail" {
                #expect(received.count == receivedSet.count, "nothing reached Teams twice")
                #expect(receivedSet.isSubset(of: Set((delivered + uncertain).compactMap(\.sequence))))
            } else {
                #expect(uncertain.isEmpty, "resend leaves nothing uncertain")
                #expect(receivedSet == Set(0..<count), "every message reached Teams at least once")
                #expect(received.count - receivedSet.count <= onTheWire + 2, "at most one extra per cut request")
            }
        }

        /// Every broker drops every connection for ten seconds: the member loses the group and rejoins.
        @Test func anOutageOfEveryBrokerReplaysOnlyTheUncommittedTailAndContradictsNothing() async throws {
            let count = 2000
            let rig = try await DeliveryRig(
                partitions: 6, emulator: EndToEnd.DeliveryTests.teams(latency: .milliseconds(10)))
            defer { Task { await rig.shutdown() } }
            try await rig.publish(DeliveryRig.notifyEvents(count: count, recipients: 400, tenants: 4))
            let worker = try await rig.startWorker()
            defer { worker.kill() }
            let port = try await DeliveryRig.httpPort(of: worker)
            try await EndToEnd.DeliveryTests.waitForOutcomes(rig, 600)

            let committedBefore = try await rig.committedRecords()
            let inFlight = try await Self.metric("herald_deliveries_in_flight", port: port)
            rig.kafka.beginOutage()
            // The outage itself lasts ten seconds: this is the fault being injected, not a wait for a condition.
            try await Task.sleep(for: .seconds(10))
            rig.kafka.endOutage()
            let outcomes = try await rig.outcomes(finalCount: count, timeout: .seconds(180))
            rig.expectNoContradiction(outcomes)
            try await rig.expectEachDeliveredOnceInOrder(outcomes, count: count)
            let replayed = try await Self.metric("herald_deliveries_replayed_total", port: port)
            let consumed = try await Self.metric(
                "herald_events_consumed_total{topic=\"\(rig.eventsTopic)\"}", port: port)
            print(
                "reliability: records consumed \(consumed) (read ahead before the outage, then again from the committed offsets)"
            )
            #expect(consumed <= count + count - Int(committedBefore), "reading resumed at the committed offsets")
            print(
                "reliability: 10 s outage of every broker: \(replayed) deliveries read again, \(inFlight) in flight "
                    + "and \(committedBefore) of \(count) records committed when it began, \(outcomes.count) outcomes")
            // The group resumes at the committed offsets (not at the start): what is read again is what was in
            // flight (deliveries whose outcome waited in the producer while the member lost its partitions) and
            // what finished within the last commit interval (250 ms; a second at this run's ~200/s is allowed).
            #expect(committedBefore > 0, "offsets were being committed before the outage")
            #expect(replayed <= inFlight + 200, "\(replayed) deliveries read again, \(inFlight) were in flight")
            #expect(outcomes.count == count, "and none of them published a second outcome")
            #expect(worker.isRunning, "the worker rode out the outage")
        }

        /// The PostgreSQL server restarts under two workers mid-run.
        @Test func aStoreRestartLosesNothingAndContradictsNothing() async throws {
            let count = 1200
            let postgres = try await ScratchPostgres.start(prefix: "restart")
            defer { Task { try? await postgres.control("down") } }
            let rig = try await DeliveryRig(
                emulator: EndToEnd.DeliveryTests.teams(latency: .milliseconds(10)), storeURL: postgres.url)
            defer { Task { await rig.shutdown() } }
            try await rig.publish(DeliveryRig.notifyEvents(count: count, recipients: 300, tenants: 3))
            let workers = [try await rig.startWorker(), try await rig.startWorker()]
            defer { for worker in workers { worker.kill() } }
            try await EndToEnd.DeliveryTests.waitForOutcomes(rig, count / 4)

            try await postgres.control("restart")

            let outcomes = try await rig.outcomes(finalCount: count, timeout: .seconds(180))
            rig.expectNoContradiction(outcomes)
            try await rig.expectEachDeliveredOnceInOrder(outcomes, count: count)
            #expect(workers.allSatisfy { $0.isRunning }, "the workers rode out the restart")
        }

        /// A second worker joins and leaves the group every few seconds while the first works through a backlog.
        @Test func repeatedRebalancesContradictNothingAndDeliverEverythingOnce() async throws {
            let count = 1500
            let rig = try await DeliveryRig(emulator: EndToEnd.DeliveryTests.teams(latency: .milliseconds(10)))
            defer { Task { await rig.shutdown() } }
            try await rig.publish(DeliveryRig.notifyEvents(count: count, recipients: 300, tenants: 3))
            let steady = try await rig.startWorker()
            defer { steady.kill() }
            for _ in 0..<3 {
                let visitor = try await rig.startWorker()
                defer { visitor.kill() }
                // It works for a while (a fault's duration, not a wait for a condition), then leaves.
                try await Task.sleep(for: .seconds(3))
                visitor.terminate()
                #expect(
                    await visitor.exit(timeout: .seconds(40)) == .init(status: 0, signalled: false, timedOut: false))
            }
            let outcomes = try await rig.outcomes(finalCount: count, timeout: .seconds(180))
            rig.expectNoContradiction(outcomes)
            try await rig.expectEachDeliveredOnceInOrder(outcomes, count: count)
            let repeated = outcomes.count - Set(outcomes.map(\.deliveryId)).count
            print("reliability: 3 join/leave rebalances: \(repeated) outcomes published twice")
        }

        /// Kafka, the store and Teams all gone: SIGTERM still ends the process, within the grace period plus a
        /// bounded close.
        @Test func sigtermEndsTheWorkerWhenKafkaTheStoreAndTeamsAreAllUnreachable() async throws {
            let postgres = try await ScratchPostgres.start(prefix: "sigterm")
            let rig = try await DeliveryRig(
                emulator: EndToEnd.DeliveryTests.teams(latency: .milliseconds(50)), storeURL: postgres.url)
            defer { Task { await rig.shutdown() } }
            try await rig.publish(DeliveryRig.notifyEvents(count: 3000, recipients: 600, tenants: 2))
            let worker = try await rig.startWorker()
            defer { worker.kill() }
            try await EndToEnd.DeliveryTests.waitForOutcomes(rig, 100)

            rig.kafka.beginOutage()
            await rig.emulator.stop()
            try await postgres.control("stop")
            defer { Task { try? await postgres.control("down") } }
            let started = ContinuousClock.now
            worker.terminate()
            // The rig's grace period is 10 s; the close after it is bounded at 15 s.
            let termination = await worker.exit(timeout: .seconds(40))
            let took = ContinuousClock.now - started
            rig.kafka.endOutage()
            print("reliability: SIGTERM with Kafka, store and Teams unreachable: exited after \(took)")
            #expect(termination == .init(status: 0, signalled: false, timedOut: false), "exits 0: \(termination)")
            #expect(took < .seconds(30), "exited after \(took)")
            let log = worker.text(of: .stderr)
            #expect(log.contains("draining"))
            #expect(!log.contains(DeliveryRig.appPassword), "no secret in the logs")
        }

        /// A metric of a running worker (an unlabelled series), 0 when it has none yet.
        static func metric(_ name: String, port: Int) async throws -> Int {
            let text = try await DeliveryRig.get(port: port, "/metrics").body
            let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            return line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }.map { Int($0) } ?? 0
        }
    }
}

extension Outcome {
    /// The `#N` of a notify event (`<run>-<N>`).
    var sequence: Int? { eventId.split(separator: "-").last.flatMap { Int($0) } }
}

extension DeliveryRig {
    /// What a status view keyed by delivery id would show never changes once final: every outcome published
    /// for one delivery after its first final one says the same, and nothing is a `Duplicate` (these runs
    /// publish no upstream duplicates, only records read again).
    func expectNoContradiction(_ outcomes: [Outcome], sourceLocation: SourceLocation = #_sourceLocation) {
        let duplicates = outcomes.filter { $0.error?.code == "Duplicate" }
        #expect(
            duplicates.isEmpty, "\(duplicates.count) replays published as Duplicate", sourceLocation: sourceLocation)
        var contradicted: [String] = []
        for (id, sequence) in Dictionary(grouping: outcomes, by: \.deliveryId) {
            let finals = sequence.filter { $0.status != "deferred" }.map(\.summary)
            if Set(finals).count > 1 { contradicted.append("\(id): \(finals)") }
        }
        #expect(contradicted.isEmpty, "\(contradicted.prefix(5))", sourceLocation: sourceLocation)
    }

    /// The `#N` of every message Teams received, in arrival order per conversation.
    func receivedSequenceNumbers() async throws -> [Int] {
        try await emulator.conversations().flatMap(sequenceNumbers)
    }
}
