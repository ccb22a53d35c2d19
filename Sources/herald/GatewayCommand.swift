import ArgumentParser
import Engine
import Foundation
import Gateway
import HeraldConfig
import HeraldHTTP
import Kafka
import Logging
import Synchronization

/// `herald gateway --config FILE`: the bot's messaging endpoint on its own.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Serve the bot's messaging endpoint until SIGTERM or SIGINT.",
        discussion: """
            Answers POST gateway.path (default /api/messages) on gateway.host:gateway.port: checks each request's \
            Bot Framework token, publishes conversation references on kafka.referencesTopic and interaction events \
            on kafka.interactionsTopic, marks uninstalled personal chats blocked in the store, and answers 200 once \
            Kafka has them. Stateless: run as many as you like behind a load balancer. /metrics is on http.port.
            """
    )

    @Option(help: "The configuration file (YAML).")
    var config: String

    @Option(help: "Overrides log.level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level?

    func run() async throws {
        let termination = Termination.install(exitsBeforeStart: true)
        let configuration: HeraldConfiguration
        do {
            configuration = try HeraldConfiguration.load(file: config)
        } catch {
            throw RunError("\(error)")
        }
        var logging = LoggingOptions()
        logging.logLevel = logLevel ?? Logger.Level(rawValue: configuration.log.level) ?? .info
        logging.format = configuration.log.format
        let logger = logging.makeLogger("herald.gateway")
        _ = OperationsEndpoint.registry
        let ready = GatewayReadiness()
        let endpoint: HTTPServer
        do {
            endpoint = try await OperationsEndpoint.bind(
                host: configuration.http.host, port: configuration.http.port, problems: { ready.problems() },
                logger: logger.component("http"))
        } catch {
            throw RunError(
                "cannot listen on \(configuration.http.host):\(configuration.http.port) (http.port): \(error)")
        }
        print("http.port=\(endpoint.port)")
        fflush(nil)
        let serving = Task { try await endpoint.run() }
        defer {
            endpoint.shutdown()
            serving.cancel()
        }
        try await Self.serve(configuration, logger: logger, termination: termination, ready: ready)
    }

    /// Runs the gateway until a signal; `herald run` uses it too when `gateway.enabled` is set.
    static func serve(
        _ configuration: HeraldConfiguration, bootstrapServers: String? = nil, logger: Logger,
        termination: Termination, ready: GatewayReadiness
    ) async throws {
        do {
            try await GatewaySetup.run(
                configuration, bootstrapServers: bootstrapServers, logger: logger,
                listening: { port, isReady in
                    ready.set(isReady)
                    print("gateway.port=\(port)")
                    fflush(nil)
                    termination.started()
                },
                until: { await termination.wait() })
        } catch let error as RunError {
            throw error
        } catch {
            throw RunError("gateway: \(error)")
        }
    }
}

/// `/readyz` of a gateway: ready once the Bot Framework's signing keys have been read.
final class GatewayReadiness: Sendable {
    private let check = Mutex<(@Sendable () -> Bool)?>(nil)

    func set(_ isReady: @escaping @Sendable () -> Bool) { check.withLock { $0 = isReady } }

    func problems() -> [Readiness.Problem] {
        guard let isReady = check.withLock({ $0 }) else {
            return [Readiness.Problem(check: "gateway", reason: "starting")]
        }
        return isReady() ? [] : [Readiness.Problem(check: "openid", reason: "signing keys not read yet")]
    }
}
