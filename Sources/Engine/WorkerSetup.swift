import BotConnector
import Foundation
import HeraldConfig
import Kafka
import Logging
import Routing
import Store

/// Builds a ``Worker`` from the configuration: the parts `herald run` and `herald demo` share.
public enum WorkerSetup {
    /// The compiled routes of `configuration.routing.routesFile`; throws ``ConfigError`` listing every problem.
    public static func router(_ configuration: HeraldConfiguration) throws(ConfigError) -> Router {
        try Router(loading: configuration)
    }

    /// The Teams client settings `bot.*` asks for.
    public static func botConfiguration(_ bot: HeraldConfiguration.Bot) -> BotConnectorClient.Configuration {
        BotConnectorClient.Configuration(
            appId: bot.appId, appPassword: bot.appPassword, tenantId: bot.tenantId,
            cloud: Cloud(rawValue: bot.cloud.rawValue) ?? .public, tokenURL: bot.tokenUrl.isEmpty ? nil : bot.tokenUrl,
            scope: bot.scope.isEmpty ? nil : bot.scope,
            defaultServiceURL: bot.defaultServiceUrl.isEmpty ? nil : bot.defaultServiceUrl,
            allowedServiceHosts: bot.allowedServiceHosts)
    }

    /// `host/pid`: this process's worker id in outcomes and ledger claims.
    public static var defaultWorkerId: String {
        "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// Opens the store and the Teams client, runs a worker until `stop` returns (or the worker fails), drains it
    /// and closes everything. `bootstrapServers` replaces `kafka.brokers` (an embedded cluster's address).
    /// `started` receives the worker once it exists (for progress and statistics); `readiness`, when given, is
    /// kept up to date while the worker runs.
    public static func run(
        _ configuration: HeraldConfiguration, bootstrapServers: String? = nil, worker: String = defaultWorkerId,
        logger: Logger, readiness: Readiness? = nil, tune: (inout WorkerOptions) -> Void = { _ in },
        started: @Sendable (Worker) async -> Void = { _ in },
        until stop: @escaping @Sendable () async -> Void
    ) async throws {
        let router = try router(configuration)
        let decoder = EventDecoder(options: EventDecodingOptions(configuration: configuration.routing))
        var options = WorkerOptions(configuration: configuration, worker: worker)
        tune(&options)
        let cluster = KafkaClusterConfiguration(
            bootstrapServers: bootstrapServers ?? configuration.kafka.brokers, clientId: "herald",
            properties: configuration.kafka.properties)
        let client = BotConnectorClient(
            configuration: botConfiguration(configuration.bot), logger: logger.component("teams"))
        let graph = options.teamsAppId == nil ? nil : graphClient(configuration.bot, logger: logger.component("graph"))
        do {
            try await run(
                options, cluster: cluster, router: router, decoder: decoder, client: client, graph: graph,
                configuration, logger: logger, readiness: readiness, started: started, until: stop)
        } catch {
            try? await client.shutdown()
            try? await graph?.shutdown()
            throw error
        }
        try? await client.shutdown()
        try? await graph?.shutdown()
    }

    /// The Microsoft Graph client proactive installation uses.
    private static func graphClient(_ bot: HeraldConfiguration.Bot, logger: Logger) -> GraphClient {
        GraphClient(
            configuration: .init(
                appId: bot.appId, appPassword: bot.appPassword, cloud: Cloud(rawValue: bot.cloud.rawValue) ?? .public,
                graphURL: bot.graphUrl.isEmpty ? nil : bot.graphUrl,
                loginURL: bot.loginUrl.isEmpty ? nil : bot.loginUrl,
                allowedHosts: bot.allowedServiceHosts),
            logger: logger)
    }

    private static func run(
        _ options: WorkerOptions, cluster: KafkaClusterConfiguration, router: Router, decoder: EventDecoder,
        client: BotConnectorClient, graph: GraphClient?, _ configuration: HeraldConfiguration, logger: Logger,
        readiness: Readiness?,
        started: @Sendable (Worker) async -> Void, until stop: @escaping @Sendable () async -> Void
    ) async throws {
        let store = try await makeStore(url: configuration.store.url, logger: logger.component("store"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.run() }
            defer { group.cancelAll() }
            try await store.migrate()
            let engine = try Worker(
                options: options, cluster: cluster, router: router, decoder: decoder, client: client, store: store,
                graph: graph, logger: logger)
            await started(engine)
            if let readiness {
                group.addTask {
                    await readiness.monitor(engine, store: store, client: client, logger: logger.component("health"))
                }
            }
            // References published by the bot's front end, when configured, are kept in the store meanwhile.
            var ingestion: Task<Void, any Error>?
            if !configuration.kafka.referencesTopic.isEmpty {
                let ingestor = try ReferenceIngestor(
                    cluster: cluster, groupId: "\(configuration.kafka.groupId)-references",
                    topic: configuration.kafka.referencesTopic, store: store, logger: logger.component("references"))
                ingestion = Task { try await ingestor.run() }
            }
            // Draining, not cancelling: cancellation would cut in-flight requests short.
            let stopper = Task {
                await stop()
                engine.drain()
            }
            defer { stopper.cancel() }
            var failure: (any Error)?
            do { try await engine.run() } catch { failure = error }
            ingestion?.cancel()
            _ = await ingestion?.result
            if let failure { throw failure }
        }
    }
}

extension Logger {
    /// A copy whose records say which part of Herald wrote them (`component` in JSON logs).
    public func component(_ name: String) -> Logger {
        var logger = self
        logger[metadataKey: "component"] = .string(name)
        return logger
    }
}
