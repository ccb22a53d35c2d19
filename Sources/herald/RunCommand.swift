import ArgumentParser
import Engine
import Foundation
import HeraldConfig
import HeraldHTTP
import Kafka
import Logging

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
        let termination = Termination.install(exitsBeforeStart: true)
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
        let serving = Task { try await endpoint.run() }
        defer {
            endpoint.shutdown()
            serving.cancel()
        }
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
        // With gateway.enabled the messaging endpoint runs beside the worker and stops with it.
        let gateway: Task<Void, any Error>? =
            configuration.gateway.enabled
            ? Task { [embedded] in
                do {
                    try await GatewayCommand.serve(
                        configuration, bootstrapServers: embedded?.bootstrapServers, logger: logger,
                        termination: termination, ready: GatewayReadiness())
                } catch {
                    // No messaging endpoint, no reason to run half a deployment: the worker drains, and the
                    // process exits non-zero with this error.
                    logger.error("the gateway stopped; shutting down", metadata: ["error": "\(error)"])
                    termination.request()
                    throw error
                }
            } : nil
        defer { gateway?.cancel() }
        do {
            try await WorkerSetup.run(
                configuration, bootstrapServers: embedded?.bootstrapServers, logger: logger, readiness: readiness,
                started: { _ in termination.started() },
                until: {
                    await termination.wait()
                    // The drain takes the grace period, then at most two bounded steps (parking, closing Kafka).
                    let limit = configuration.delivery.shutdownGracePeriod + Self.closeBound
                    termination.exitIfStillRunning(after: limit) {
                        logger.warning(
                            "shutdown did not finish in time: exiting; records not committed are read again by the group",
                            metadata: ["seconds": "\(limit.components.seconds)"])
                    }
                })
        } catch let error as ConfigError {
            throw RunError("\(error)")
        }
        try await gateway?.value
        withExtendedLifetime(embedded) {}
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
