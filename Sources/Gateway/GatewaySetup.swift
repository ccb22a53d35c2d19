import AsyncHTTPClient
import BotConnector
import Foundation
import HeraldConfig
import HeraldHTTP
import Kafka
import Logging
import Routing
import Store

/// Builds and runs the messaging endpoint from the configuration: `herald gateway`, and `herald run` with
/// `gateway.enabled`. Stateless: any number of gateways may run behind a load balancer; each needs Kafka (a
/// producer), the store (blocked marks) and the Bot Framework's OpenID metadata.
public enum GatewaySetup {
    /// Serves `gateway.path` (and `/healthz`, `/readyz`) on `gateway.host:gateway.port` until `stop` returns; then
    /// finishes the requests in progress, flushes Kafka and closes everything. `listening` gets the bound port
    /// and a readiness check (the signing keys have been read). `store`, when given, is a migrated store whose
    /// `run()` the caller runs until this returns (a service listed before the gateway in its `ServiceGroup`: a
    /// store run inside the gateway's service would close at the group's graceful shutdown, under the requests
    /// still in progress); nil opens, migrates and closes one of `store.url`.
    public static func run(
        _ configuration: HeraldConfiguration, bootstrapServers: String? = nil, store: (any HeraldStore)? = nil,
        logger: Logger,
        listening: @Sendable (_ port: Int, _ isReady: @escaping @Sendable () -> Bool) -> Void = { _, _ in },
        until stop: @escaping @Sendable () async -> Void
    ) async throws {
        let gateway = configuration.gateway
        guard !configuration.kafka.referencesTopic.isEmpty, !configuration.kafka.interactionsTopic.isEmpty else {
            throw GatewaySetupError(
                "the gateway publishes on kafka.referencesTopic and kafka.interactionsTopic: set both")
        }
        // The routes the workers use: their `actions.<verb>` answer the buttons on their cards.
        let router = try Router(loading: configuration)
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let cluster = KafkaClusterConfiguration(
            bootstrapServers: bootstrapServers ?? configuration.kafka.brokers, clientId: "herald-gateway",
            properties: configuration.kafka.properties)
        let producer: KafkaProducer
        do {
            producer = try KafkaProducer(configuration: .init(cluster: cluster), logger: logger.component("kafka"))
        } catch {
            try? await http.shutdown()
            throw error
        }
        let client = BotConnectorClient(
            configuration: botConfiguration(configuration.bot), logger: logger.component("teams"))
        let cloud = Cloud(rawValue: configuration.bot.cloud.rawValue) ?? .public
        let keys = OpenIDKeyCache(
            metadataURL: gateway.openIdMetadataUrl.isEmpty ? cloud.openIdMetadataURL : gateway.openIdMetadataUrl,
            http: http, logger: logger.component("openid"))
        let validator = BotTokenValidator(
            keys: keys, appId: configuration.bot.appId,
            issuers: cloud.botFrameworkIssuers(tenantId: configuration.bot.tenantId))
        @Sendable func serve(_ store: any HeraldStore) async throws {
            let endpoint = MessagingEndpoint(
                validator: validator, appId: configuration.bot.appId, replyToMessages: gateway.replyToMessages,
                producer: producer, store: store, client: client,
                topics: .init(
                    references: configuration.kafka.referencesTopic,
                    interactions: configuration.kafka.interactionsTopic),
                produceTimeout: gateway.produceTimeout,
                cardActions: .init(
                    routes: router.routes, limits: router.limits, invokeTimeout: gateway.invokeTimeout),
                logger: logger.component("gateway"))
            let server = try await HTTPServer.bind(
                configuration: .init(host: gateway.host, port: gateway.port, maxBodySize: gateway.maxBodyBytes),
                logger: logger.component("gateway")
            ) { request in
                await route(request, path: gateway.path, endpoint: endpoint, keys: keys)
            }
            listening(server.port, { keys.isReady })
            logger.info(
                "gateway listening", metadata: ["port": "\(server.port)", "path": "\(gateway.path)"])
            // Ready before the first request when the metadata answers; else tried again until it does (an
            // unready gateway gets no requests that would try).
            let reading = Task { await keys.readUntilKnown() }
            defer { reading.cancel() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                await stop()
                server.shutdown()
                try await group.waitForAll()
            }
        }
        var failure: (any Error)?
        do {
            if let store {
                try await serve(store)
            } else {
                try await Store.withStore(url: configuration.store.url, logger: logger.component("store"), serve)
            }
        } catch {
            failure = error
        }
        do {
            try await producer.shutdown()
        } catch {
            logger.error("gateway records not acknowledged at shutdown", metadata: ["error": "\(error)"])
        }
        try? await client.shutdown()
        try? await http.shutdown()
        if let failure { throw failure }
    }

    static func route(
        _ request: HTTPRequest, path: String, endpoint: MessagingEndpoint, keys: OpenIDKeyCache
    ) async -> HTTPResponse {
        switch request.path {
        case Substring(path):
            return await endpoint.handle(request)
        case "/healthz":
            return .json(.ok, #"{"status":"alive"}"#)
        case "/readyz":
            return keys.isReady
                ? .json(.ok, #"{"ready":true}"#)
                : .json(.serviceUnavailable, #"{"ready":false,"problems":{"openid":"signing keys not read yet"}}"#)
        default:
            return .json(.notFound, #"{"error":"not found"}"#)
        }
    }

    /// The Teams client settings `bot.*` asks for (replies to users who write to the bot).
    static func botConfiguration(_ bot: HeraldConfiguration.Bot) -> BotConnectorClient.Configuration {
        BotConnectorClient.Configuration(
            appId: bot.appId, appPassword: bot.appPassword, tenantId: bot.tenantId,
            cloud: Cloud(rawValue: bot.cloud.rawValue) ?? .public, tokenURL: bot.tokenUrl.isEmpty ? nil : bot.tokenUrl,
            scope: bot.scope.isEmpty ? nil : bot.scope,
            defaultServiceUrl: bot.defaultServiceUrl.isEmpty ? nil : bot.defaultServiceUrl,
            allowedServiceHosts: bot.allowedServiceHosts)
    }
}

/// The configuration cannot run a gateway.
public struct GatewaySetupError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension Cloud {
    /// Where the Bot Framework publishes the keys that sign what the Bot Connector sends a bot.
    public var openIdMetadataURL: String {
        switch self {
        case .public, .gcc: "https://login.botframework.com/v1/.well-known/openidconfiguration"
        case .gcch, .dod: "https://login.botframework.azure.us/v1/.well-known/openidconfiguration"
        }
    }

    /// The issuers a Bot Connector token may name: the Bot Framework's, and for a single-tenant bot its tenant's.
    public func botFrameworkIssuers(tenantId: String) -> Set<String> {
        var issuers: Set<String> =
            switch self {
            case .public, .gcc: ["https://api.botframework.com"]
            case .gcch, .dod: ["https://api.botframework.us"]
            }
        if !tenantId.isEmpty, tenantId != "botframework.com" {
            issuers.insert("https://login.microsoftonline.com/\(tenantId)/v2.0")
            issuers.insert("https://sts.windows.net/\(tenantId)/")
        }
        return issuers
    }
}

extension Logger {
    /// A copy whose records say which part of the gateway wrote them (`component` in JSON logs).
    func component(_ name: String) -> Logger {
        var logger = self
        logger[metadataKey: "component"] = .string(name)
        return logger
    }
}
