import BotConnector
import Engine
import HeraldConfig
import Kafka
import Logging
import Routing
import ServiceLifecycle
import Store

/// A delivery worker from the configuration as services of the command's `ServiceGroup` (`herald run`, `herald
/// demo`): first the store; once it is migrated the worker is built, and the readiness checks (with a
/// ``Readiness``), the reference ingestor (with `kafka.referencesTopic`), the worker and whatever runs `alongside`
/// join the group, in that order. A group shuts down in reverse order: what runs alongside stops first, then the
/// worker drains (`/readyz` says `worker: draining` meanwhile), then the ingestor and the checks stop, and the store
/// closes last.
struct WorkerServices: Sendable {
    let configuration: HeraldConfiguration
    let options: WorkerOptions
    let cluster: KafkaClusterConfiguration
    let router: Router
    let decoder: EventDecoder
    let client: BotConnectorClient
    let graph: GraphClient?
    let store: any HeraldStore
    let readiness: Readiness?
    let logger: Logger

    /// Compiles the routes (``ConfigError`` lists every problem), creates the Teams clients and opens the store
    /// (nothing is read from it yet). `bootstrapServers` replaces `kafka.brokers` (an embedded cluster's address).
    init(
        _ configuration: HeraldConfiguration, bootstrapServers: String? = nil,
        worker: String = WorkerSetup.defaultWorkerId, logger: Logger, readiness: Readiness? = nil,
        tune: (inout WorkerOptions) -> Void = { _ in }
    ) async throws {
        self.router = try WorkerSetup.router(configuration)
        self.decoder = EventDecoder(options: EventDecodingOptions(configuration: configuration.routing))
        var options = WorkerOptions(configuration: configuration, worker: worker)
        tune(&options)
        self.options = options
        self.cluster = KafkaClusterConfiguration(
            bootstrapServers: bootstrapServers ?? configuration.kafka.brokers, clientId: "herald",
            properties: configuration.kafka.properties)
        let client = BotConnectorClient(
            configuration: WorkerSetup.botConfiguration(configuration.bot), logger: logger.component("teams"))
        // Graph is for proactive installation and for routes that name people by email or UPN, or groups.
        let graph =
            options.teamsAppId == nil && !router.readsDirectory
            ? nil : WorkerSetup.graphClient(configuration.bot, logger: logger.component("graph"))
        do {
            self.store = try await makeStore(url: configuration.store.url, logger: logger.component("store"))
        } catch {
            await Self.close(client, graph)
            throw error
        }
        self.client = client
        self.graph = graph
        self.configuration = configuration
        self.readiness = readiness
        self.logger = logger
    }

    /// The store's service: once the store is migrated it builds the worker, adds the worker's services and
    /// `alongside` to `group`, then passes the worker to `started`. Throws what building the worker throws.
    func storeService(
        joining group: ServiceGroup, alongside: [ServiceGroupConfiguration.ServiceConfiguration] = [],
        started: @escaping @Sendable (Worker) async -> Void = { _ in }
    ) -> ServiceGroupConfiguration.ServiceConfiguration {
        ServiceGroupConfiguration.ServiceConfiguration(
            service: MigratingStore(store: store) { store in
                let (worker, services) = try self.services(store: store)
                for service in services + alongside { await group.addServiceUnlessShutdown(service) }
                await started(worker)
            },
            successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup,
            serviceName: "store")  // names only: a service's description could show its configuration
    }

    /// Runs `body` (the command's group), then closes the Teams clients, whether it returned or threw.
    func closing<Result>(after body: () async throws -> Result) async throws -> Result {
        let result: Result
        do {
            result = try await body()
        } catch {
            await Self.close(client, graph)
            throw error
        }
        await Self.close(client, graph)
        return result
    }

    private static func close(_ client: BotConnectorClient, _ graph: GraphClient?) async {
        try? await client.shutdown()
        try? await graph?.shutdown()
    }

    /// The worker on the migrated `store`, and the services that run it and what runs beside it.
    private func services(store: any HeraldStore) throws -> (Worker, [ServiceGroupConfiguration.ServiceConfiguration]) {
        let worker = try Worker(
            options: options, cluster: cluster, router: router, decoder: decoder, client: client, store: store,
            graph: graph, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let readiness {
            services.append(
                .init(
                    service: readiness.checks(of: worker, logger: logger.component("health")),
                    successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore, serviceName: "readiness"))
        }
        // References published by the bot's front end, when configured, are kept in the store meanwhile. Its
        // failure stops nothing else (the worker does not need it to deliver).
        if !configuration.kafka.referencesTopic.isEmpty {
            let ingestor = try ReferenceIngestor(
                cluster: cluster, groupId: "\(configuration.kafka.groupId)-references",
                topic: configuration.kafka.referencesTopic, store: store, logger: logger.component("references"))
            services.append(
                .init(
                    service: ingestor, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore,
                    serviceName: "references"))
        }
        // The worker ends only when drained; if it fails (Kafka unreachable at start), the rest stops and the
        // group throws its error.
        services.append(
            .init(
                service: worker, successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup, serviceName: "worker"))
        return (worker, services)
    }
}
