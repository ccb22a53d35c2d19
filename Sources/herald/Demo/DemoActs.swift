import Engine
import Foundation
import HeraldConfig
import HeraldDemo
import Kafka
import Logging
import ServiceLifecycle
import Store
import Synchronization
import TeamsEmulator

/// The demo's acts, run as one `ServiceGroup` with the gateway and the worker.
extension DemoCommand {
    /// What the acts did, for the summary.
    struct Acted: Sendable {
        var installs = DemoWorld.Installs()
        var finished = EngineStats.Snapshot()
        /// The outcomes expected in the end.
        var total = 0
        var clicks = DemoWorld.Clicks()
        /// When the notifications began (after the installs).
        var started = ContinuousClock.now
        /// Why an act could not publish its events.
        var failure: String?
    }

    /// The demo as one `ServiceGroup`: the gateway (with a store of its own) from the start; the acts; and, once the
    /// installs are heard, the worker's store and, once that is migrated, the reference ingestor and the worker. When
    /// the acts are over the group stops in reverse order: the worker drains, its store closes, then the gateway.
    static func perform(
        _ configuration: HeraldConfiguration, world: DemoWorld, emulator: DemoEmulatorProcess, bootstrap: String,
        logger: Logger
    ) async throws -> Acted {
        let worker = try await WorkerServices(
            configuration, worker: "herald-demo/1", logger: logger, tune: { $0.shutdownGracePeriod = .seconds(5) })
        let acted = Mutex(Acted())
        try await worker.closing {
            let gatewayStore = try await makeStore(url: configuration.store.url, logger: logger.component("store"))
            let ports = AsyncStream<Int>.makeStream()
            let group = ServiceGroup(
                configuration: ServiceGroupConfiguration(
                    services: [ServiceGroupConfiguration.ServiceConfiguration](), logger: logger))
            await group.addServiceUnlessShutdown(
                GatewayService.migrating(
                    gatewayStore, joining: group, serviceName: "gateway store", configuration, logger: logger,
                    ready: GatewayReadiness(), listening: { ports.continuation.yield($0) },
                    failed: { _ in ports.continuation.finish() }))
            let acts = ClosureService {
                // Should another part fail, the group stops the acts too.
                try await cancelWhenGracefulShutdown {
                    var port: Int?
                    for await first in ports.stream {
                        port = first
                        break
                    }
                    guard let port else { throw DemoError("the gateway did not start") }
                    try await act(
                        gatewayPort: port, world: world, emulator: emulator, bootstrap: bootstrap,
                        addWorker: { started in
                            await group.addServiceUnlessShutdown(worker.storeService(joining: group, started: started))
                        }, acted: acted, logger: logger)
                }
            }
            // When the acts are over, the group stops.
            await group.addServiceUnlessShutdown(
                ServiceGroupConfiguration.ServiceConfiguration(
                    service: acts, successTerminationBehavior: .gracefullyShutdownGroup,
                    failureTerminationBehavior: .gracefullyShutdownGroup, serviceName: "acts"))
            try await group.run()
        }
        return acted.withLock { $0 }
    }

    /// Act one (Teams tells the gateway where the app was installed), then the worker joins; act two once the
    /// welcomes are out (the notifications); act three once those are out (people press the buttons on their
    /// cards, then get one more ticket each; those who opted out do not).
    static func act(
        gatewayPort: Int, world: DemoWorld, emulator: DemoEmulatorProcess, bootstrap: String,
        addWorker: (_ started: @escaping @Sendable (Worker) async -> Void) async -> Void, acted: borrowing Mutex<Acted>,
        logger: Logger
    ) async throws {
        try await emulator.setBotEndpoint("http://127.0.0.1:\(gatewayPort)/api/messages")
        let installs = try await world.install(through: emulator)
        print(
            "  gateway   at 127.0.0.1:\(gatewayPort): \(installs.personal) users and \(installs.teams) teams installed the app"
                + " (\(installs.accepted) of \(installs.sent) activities from Teams accepted)")
        let (records, expectation) = world.records(now: Date())
        let publish: @Sendable () async throws -> Void = {
            let producer = try KafkaProducer(
                configuration: .init(cluster: .init(bootstrapServers: bootstrap)), logger: logger)
            for result in await producer.send(records) { _ = try result.get() }
            try await producer.shutdown()
        }
        print(
            "  then      \(records.count) events: "
                + expectation.byKind.sorted { $0.value > $1.value }.map { "\($0.value) \($0.key)" }.joined(
                    separator: ", "))
        print("")

        let clicked = Mutex(DemoWorld.Clicks())
        let clickCount = max(2, min(40, world.recipients / 10))
        let eventsTopic = records.first?.topic ?? "notifications"
        let press: @Sendable () async throws -> Int = {
            let clicks = try await world.click(through: emulator, count: clickCount, topic: eventsTopic, now: Date())
            clicked.withLock { $0 = clicks }
            let producer = try KafkaProducer(
                configuration: .init(cluster: .init(bootstrapServers: bootstrap)), logger: logger)
            for result in await producer.send(clicks.followUps) { _ = try result.get() }
            try await producer.shutdown()
            return clicks.outcomes
        }

        let expected = installs.welcomes + expectation.outcomes
        let started = ContinuousClock.now
        let running = RunningWorker()
        await addWorker { worker in running.worker.withLock { $0 = worker } }
        let (finished, total, failure) = await follow(
            running, expected: expected,
            stages: [
                (
                    after: installs.welcomes,
                    { @Sendable () async throws -> Int in
                        try await publish()
                        return 0
                    }
                ),
                (after: expected, press),
            ])
        let clicks = clicked.withLock { $0 }
        acted.withLock {
            $0 = Acted(
                installs: installs, finished: finished, total: total, clicks: clicks, started: started,
                failure: failure.map { "\($0)" })
        }
    }

    /// Follows the worker until every expected outcome is out (or progress stops for a minute), printing progress.
    /// Each stage runs once `after` outcomes are out, in order; it returns how many more outcomes it brings.
    /// Returns the final statistics, the number of outcomes expected in the end, and a stage's failure.
    static func follow(
        _ running: RunningWorker, expected initial: Int, stages: [(after: Int, run: @Sendable () async throws -> Int)]
    ) async -> (EngineStats.Snapshot, Int, (any Error)?) {
        let interactive = isatty(STDOUT_FILENO) != 0
        var last = -1
        var next = 0
        var expected = initial
        var lastChange = ContinuousClock.now
        var lastPrint = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(interactive ? 250 : 500))
            guard let worker = running.worker.withLock({ $0 }) else { continue }
            let stats = worker.stats.snapshot()
            let settled = stats.finalOutcomes + stats.deferred
            if next < stages.count, settled >= stages[next].after {
                do { expected += try await stages[next].run() } catch { return (stats, expected, error) }
                next += 1
                lastChange = .now
                continue
            }
            if settled != last {
                last = settled
                lastChange = .now
            }
            let line = progressLine(stats, expected: expected)
            if interactive {
                print("\r" + line, terminator: "")
                fflush(nil)
            } else if ContinuousClock.now - lastPrint >= .seconds(5) {
                print(line)
                lastPrint = .now
            }
            if (settled >= expected && next == stages.count) || ContinuousClock.now - lastChange > .seconds(60) {
                if interactive { print("\r" + line) }
                return (stats, expected, nil)
            }
        }
        return (EngineStats.Snapshot(), expected, nil)
    }
}
