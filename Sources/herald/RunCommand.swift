import ArgumentParser
import Engine
import Foundation
import HeraldConfig
import HeraldHTTP
import Kafka
import Logging
import ServiceLifecycle
import Store

/// `herald run --config FILE`: the production worker.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a delivery worker until SIGTERM or SIGINT, then drain and exit 0.",
        discussion: """
            Joins the consumer group kafka.groupId on kafka.eventsTopics, delivers every routed event to Teams and \
            publishes one outcome per delivery on kafka.outcomesTopic. On SIGTERM it stops reading, finishes or \
            parks in-flight deliveries within delivery.shutdownGracePeriod, commits and leaves the group.
            """
    )

    @Option(help: "The configuration file (YAML).")
    var config: String

    @Option(help: "Overrides log.level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level?

    /// How long after the grace period a drain may still take: parking and closing Kafka (5 s each, see
    /// `WorkerOptions.closeTimeout`), closing the store and the Teams client.
    static let closeBound: Duration = .seconds(15)

    func run() async throws {
        MemoryArenas.limit()
        // From the start: a SIGTERM while the store opens or migrates exits 0 at once instead of killing us.
        let signals = SignalGuard.install()
        let configuration: HeraldConfiguration
        do {
            configuration = try HeraldConfiguration.load(file: config)
        } catch {
            throw RunError("\(error)")  // each problem names the file and line
        }
        var logging = LoggingOptions()
        logging.logLevel = logLevel ?? Logger.Level(rawValue: configuration.log.level) ?? .info
        logging.format = configuration.log.format
        let logger = logging.makeLogger("herald.run")
        _ = OperationsEndpoint.registry  // metrics go to Prometheus from the first one on
        let readiness = Readiness()
        let endpoint: HTTPServer
        do {
            endpoint = try await OperationsEndpoint.bind(
                host: configuration.http.host, port: configuration.http.port, readiness: readiness,
                logger: logger.component("http"))
        } catch {
            throw RunError(
                "cannot listen on \(configuration.http.host):\(configuration.http.port) (http.port): \(error)")
        }
        print("http.port=\(endpoint.port)")
        fflush(nil)  // a process reading our output through a pipe needs the port now
        var embedded: EmbeddedKafka?
        if configuration.kafka.isEmbedded {
            let kafka = try EmbeddedKafka(brokers: 1, logger: logger)
            for topic in configuration.kafka.eventsTopics { try kafka.createTopic(topic, partitions: 8) }
            if configuration.gateway.enabled {
                for topic in [configuration.kafka.referencesTopic, configuration.kafka.interactionsTopic]
                where !topic.isEmpty && !configuration.kafka.eventsTopics.contains(topic) {
                    try kafka.createTopic(topic, partitions: 4)
                }
            }
            print("bootstrap.servers=\(kafka.bootstrapServers)")
            fflush(nil)
            embedded = kafka
        }
        let worker: WorkerServices
        do {
            worker = try await WorkerServices(
                configuration, bootstrapServers: embedded?.bootstrapServers, logger: logger, readiness: readiness)
        } catch let error as ConfigError {
            throw RunError("\(error)")
        }
        try await worker.closing {
            try await Self.serve(configuration, worker, endpoint: endpoint, signals: signals, logger: logger)
        }
        withExtendedLifetime(embedded) {}
    }

    /// One `ServiceGroup`: the operations endpoint, the store, then (once the store is migrated) the readiness checks,
    /// the reference ingestor, the worker and, with `gateway.enabled`, the messaging endpoint (with a store of its
    /// own). On SIGTERM or SIGINT the group stops them in reverse order: the gateway, then the worker drains, and the
    /// endpoint answers (`/readyz`: `worker: draining`) until the store has closed.
    ///
    /// The drain takes the grace period, then at most two bounded steps (parking, closing Kafka: `closeTimeout`
    /// each); past that the group cancels what is left, and `closeBound` after the grace period the ``SignalGuard``
    /// ends the process (a C call may block cancellation). A failing part stops the rest, and the group throws its
    /// error.
    private static func serve(
        _ configuration: HeraldConfiguration, _ worker: WorkerServices, endpoint: HTTPServer, signals: SignalGuard,
        logger: Logger
    ) async throws {
        let grace = worker.options.shutdownGracePeriod
        let limit = grace + closeBound
        signals.bound(after: limit) {
            logger.warning(
                "shutdown did not finish in time: exiting; records not committed are read again by the group",
                metadata: ["seconds": "\(limit.components.seconds)"])
        }
        var services = [OperationsEndpoint.service(endpoint)]
        var alongside: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if configuration.gateway.enabled {
            // The gateway's store is migrated with the worker's (the same database); it closes after the gateway.
            let store = try await makeStore(url: configuration.store.url, logger: logger.component("store"))
            services.append(
                .init(
                    service: store, successTerminationBehavior: .gracefullyShutdownGroup,
                    failureTerminationBehavior: .gracefullyShutdownGroup, serviceName: "gateway store"))
            alongside.append(
                GatewayService.configuration(
                    configuration, bootstrapServers: worker.cluster.bootstrapServers, store: store, logger: logger,
                    ready: GatewayReadiness(),
                    listening: { port in
                        GatewayService.announce(port)
                        signals.started()
                    },
                    failed: { error in
                        // No messaging endpoint, no reason to run half a deployment: the worker drains, and the
                        // process exits non-zero with this error.
                        logger.error("the gateway stopped; shutting down", metadata: ["error": "\(error)"])
                        signals.shutdownBegan()
                    }))
        }
        var group = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = grace + worker.options.closeTimeout * 2
        // The group's last resort after cancelling is a crash: later than the guard's exit 0 after a signal, so it
        // only ends a failure that hangs (a part failed, nobody sent a signal).
        group.maximumCancellationDuration = closeBound
        let running = ServiceGroup(configuration: group)
        await running.addServiceUnlessShutdown(
            worker.storeService(joining: running, alongside: alongside) { _ in signals.started() })
        try await running.run()
    }
}

/// glibc gives each thread that allocates concurrently its own malloc arena, up to eight per core; memory freed
/// into one arena is not reused by another, so a worker whose deliveries hop between the cooperative pool, NIO
/// and librdkafka threads keeps many part-empty arenas. Two arenas (`MALLOC_ARENA_MAX=2`) measured 235 → 210 MB
/// peak RSS at 100,000 deliveries with the same throughput. `MALLOC_ARENA_MAX` in the environment wins.
enum MemoryArenas {
    static func limit() {
        #if canImport(Glibc)
            guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil else { return }
            // Glibc's module map exports neither mallopt nor M_ARENA_MAX (-8, malloc.h).
            typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
            _ = unsafeBitCast(symbol, to: Mallopt.self)(-8, 2)
        #endif
    }
}

struct RunError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
