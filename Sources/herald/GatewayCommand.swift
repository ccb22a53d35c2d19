import ArgumentParser
import Engine
import Foundation
import Gateway
import HeraldConfig
import HeraldHTTP
import Kafka
import Logging
import ServiceLifecycle
import Store
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
        // From the start: a SIGTERM while the store opens or migrates exits 0 at once instead of killing us.
        let signals = SignalGuard.install()
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
        // The endpoint answers until the rest has stopped; once the store is migrated the gateway joins (and
        // stops first).
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [OperationsEndpoint.service(endpoint)], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            let store = try await makeStore(url: configuration.store.url, logger: logger.component("store"))
            await group.addServiceUnlessShutdown(
                GatewayService.migrating(
                    store, joining: group, serviceName: "store", configuration, logger: logger, ready: ready,
                    listening: { port in
                        GatewayService.announce(port)
                        signals.started()
                    }))
            try await group.run()
        } catch let error as RunError {
            throw error
        } catch {
            throw RunError("gateway: \(error)")
        }
    }
}

/// The messaging endpoint as a service of a command's group (`herald gateway`; `herald run` with `gateway.enabled`):
/// serves until the group shuts it down gracefully, then finishes the requests in progress and flushes Kafka.
struct GatewayService: Service {
    let configuration: HeraldConfiguration
    let bootstrapServers: String?
    /// Run by a service listed before this one: it closes after the gateway.
    let store: any HeraldStore
    let logger: Logger
    let ready: GatewayReadiness
    /// Told the gateway's port once it listens.
    let listening: @Sendable (_ port: Int) -> Void
    /// Told why the gateway stopped, before the group is.
    let failed: @Sendable (any Error) -> Void

    func run() async throws {
        do {
            try await GatewaySetup.run(
                configuration, bootstrapServers: bootstrapServers, store: store, logger: logger,
                listening: { port, isReady in
                    ready.set(isReady)
                    listening(port)
                },
                until: { try? await gracefulShutdown() })
        } catch {
            failed(error)
            throw RunError("gateway: \(error)")
        }
    }

    /// Prints `gateway.port=PORT` at once: a process reading our output through a pipe needs it now.
    static func announce(_ port: Int) {
        print("gateway.port=\(port)")
        fflush(nil)
    }

    /// The gateway's place in a group: when it ends, by itself or failing, the group stops the rest. Named: a
    /// service's description would show its configuration.
    static func configuration(
        _ configuration: HeraldConfiguration, bootstrapServers: String? = nil, store: any HeraldStore,
        logger: Logger, ready: GatewayReadiness, listening: @escaping @Sendable (_ port: Int) -> Void,
        failed: @escaping @Sendable (any Error) -> Void = { _ in }
    ) -> ServiceGroupConfiguration.ServiceConfiguration {
        ServiceGroupConfiguration.ServiceConfiguration(
            service: GatewayService(
                configuration: configuration, bootstrapServers: bootstrapServers, store: store, logger: logger,
                ready: ready, listening: listening, failed: failed),
            successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup,
            serviceName: "gateway")
    }
}

extension GatewayService {
    /// A gateway on a store of its own: the store's place in `group`, which migrates it, then adds the gateway
    /// (``configuration(_:bootstrapServers:store:logger:ready:listening:failed:)``) after it, so the store closes
    /// after the gateway.
    static func migrating(
        _ store: any HeraldStore, joining group: ServiceGroup, serviceName: String,
        _ configuration: HeraldConfiguration, logger: Logger, ready: GatewayReadiness,
        listening: @escaping @Sendable (_ port: Int) -> Void, failed: @escaping @Sendable (any Error) -> Void = { _ in }
    ) -> ServiceGroupConfiguration.ServiceConfiguration {
        ServiceGroupConfiguration.ServiceConfiguration(
            service: MigratingStore(store: store) { store in
                await group.addServiceUnlessShutdown(
                    Self.configuration(
                        configuration, store: store, logger: logger, ready: ready, listening: listening,
                        failed: failed))
            },
            successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup,
            serviceName: serviceName)
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
