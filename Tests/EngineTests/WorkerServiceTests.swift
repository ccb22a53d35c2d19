import Foundation
import Kafka
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import TestSupport
import Testing

@testable import Engine

/// The worker as a swift-service-lifecycle service: what a group's graceful shutdown and a failing worker do, seen
/// on the outcomes topic, the committed offsets, the consumer group and Teams.
extension WorkerTests {
    @Suite("Worker as a service", .serialized)
    struct WorkerServiceTests {
        /// A group whose only service is `worker`, shut down within the grace period plus the worker's two bounded
        /// close steps (parking, closing Kafka), as `herald run` configures it.
        static func group(
            _ worker: Worker, with others: [ServiceGroupConfiguration.ServiceConfiguration] = []
        )
            -> (ServiceGroup, bound: Duration)
        {
            let bound = worker.options.shutdownGracePeriod + worker.options.closeTimeout * 2
            var configuration = ServiceGroupConfiguration(
                services: others + [
                    .init(
                        service: worker, successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup, serviceName: "worker")
                ],
                logger: WorkerTests.logger)
            configuration.maximumGracefulShutdownDuration = bound
            return (ServiceGroup(configuration: configuration), bound)
        }

        /// The committed offsets of the workers' group, summed over the events topic's four partitions.
        static func committed(_ kafka: EmbeddedKafka) async throws -> Int64 {
            let probe = try KafkaConsumer(
                configuration: .init(
                    cluster: .init(bootstrapServers: kafka.bootstrapServers), groupId: "workers", topics: ["events"]),
                logger: WorkerTests.logger)
            let partitions = (0..<4).map { TopicPartition(topic: "events", partition: Int32($0)) }
            let committed = try await probe.committed(partitions)
            await probe.close()
            return committed.values.reduce(0) { $0 + ($1 ?? 0) }
        }

        @Test func aGracefulShutdownDrainsWhatIsInFlightLosesNothingSendsNothingTwiceAndLeavesTheGroup() async throws {
            try await WorkerTests.withSetup(emulatorLatency: .milliseconds(200)) { kafka, makeWorker, _, emulator in
                let count = 300
                try await WorkerTests.publish(kafka, users: 0..<count)
                // 30 at a time at 200 ms per Teams call: seconds of work, most of it still queued at the shutdown.
                let worker = try makeWorker("first") {
                    $0.maxInFlight = 30
                    $0.pollBatchSize = 10
                }
                let (group, bound) = Self.group(worker)
                let (atShutdown, took) = try await testGracefulShutdown { trigger in
                    try await withThrowingTaskGroup(of: Void.self) { tasks in
                        tasks.addTask { try await group.run() }
                        try await eventually(within: .seconds(60), "deliveries in flight after the first outcomes") {
                            let stats = worker.stats.snapshot()
                            return stats.finalOutcomes >= 30 && stats.inFlight > 0
                        }
                        trigger.triggerGracefulShutdown()
                        let began = ContinuousClock.now
                        let atShutdown = worker.stats.snapshot()
                        try await tasks.waitForAll()
                        return (atShutdown, ContinuousClock.now - began)
                    }
                }
                #expect(atShutdown.inFlight > 0, "deliveries were in flight when the shutdown began")
                #expect(took < bound, "the group finished within its bound (took \(took), bound \(bound))")
                let drained = worker.stats.snapshot()
                #expect(drained.inFlight == 0, "every delivery in flight finished: none was parked or cut short")
                #expect(
                    drained.finalOutcomes < count, "the shutdown stopped the reading: the rest is left to the group")
                #expect(drained.outcomes.keys.sorted() == ["delivered"])
                #expect(
                    emulator.stats().activitiesSent == drained.finalOutcomes, "each finished delivery reached Teams")
                let published = try await WorkerTests.outcomes(kafka, atLeast: drained.finalOutcomes)
                #expect(published.count == drained.finalOutcomes, "every finished delivery's outcome is published")
                #expect(
                    try await Self.committed(kafka) == Int64(published.count),
                    "offsets are committed up to every published outcome, and not past the records left unread")

                // A successor in the same group gets every partition before the first worker's session would have
                // timed out (10 s): the first one left the group. It delivers the rest, nothing twice.
                let successor = try makeWorker("successor") { $0.maxInFlight = 100 }
                let started = ContinuousClock.now
                let running = Task { try await successor.run() }
                try await eventually(within: .seconds(60), "the successor to own every partition") {
                    successor.consumer.assignment.count == 4
                }
                let handedOver = ContinuousClock.now - started
                #expect(handedOver < .seconds(10), "the partitions were handed over in \(handedOver)")
                try await eventually(within: .seconds(120), "the successor to deliver the rest") {
                    successor.stats.snapshot().finalOutcomes >= count - drained.finalOutcomes
                }
                successor.drain()
                try await running.value
                let all = try await WorkerTests.outcomes(kafka, atLeast: count)
                #expect(all.count == count, "one outcome per event over both workers")
                #expect(Set(all.compactMap { $0["deliveryId"] as? String }).count == count)
                #expect(emulator.stats().activitiesSent == count, "every message reached Teams once")
                #expect(successor.stats.snapshot().outcomes == ["delivered": count - drained.finalOutcomes])
            }
        }

        @Test func aWorkerThatCannotStartStopsTheRestGracefullyAndTheGroupThrowsItsError() async throws {
            try await WorkerTests.withSetup(emulatorLatency: .zero) { kafka, makeWorker, _, _ in
                // 29: TOPIC_AUTHORIZATION_FAILED, what a cluster with ACLs answers for a topic Herald may not read.
                kafka.setTopicError("events", .librdkafka(29))
                let worker = try makeWorker("refused") { _ in }
                let stoppedGracefully = Mutex(false)
                // Stands for the store: it must be shut down gracefully (it closes after the worker), not cancelled.
                let store = ClosureService {
                    try await gracefulShutdown()
                    stoppedGracefully.withLock { $0 = true }
                }
                let (group, bound) = Self.group(
                    worker,
                    with: [
                        .init(
                            service: store, successTerminationBehavior: .gracefullyShutdownGroup,
                            failureTerminationBehavior: .gracefullyShutdownGroup, serviceName: "store")
                    ])
                let began = ContinuousClock.now
                let error = await #expect(throws: KafkaError.self) { try await group.run() }
                #expect(error?.description.contains("events") == true, "\(String(describing: error))")
                #expect(stoppedGracefully.withLock { $0 }, "the rest was shut down gracefully")
                #expect(ContinuousClock.now - began < bound)
            }
        }
    }
}
