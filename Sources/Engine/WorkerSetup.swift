import BotConnector
import Foundation
import HeraldConfig
import Kafka
import Logging
import Routing
import Store

/// The parts of a ``Worker`` built from the configuration that `herald run` and `herald demo` share.
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
            defaultServiceUrl: bot.defaultServiceUrl.isEmpty ? nil : bot.defaultServiceUrl,
            allowedServiceHosts: bot.allowedServiceHosts)
    }

    /// `host/pid`: this process's worker id in outcomes and ledger claims.
    public static var defaultWorkerId: String {
        "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// The Microsoft Graph client proactive installation uses (`bot.proactiveInstall`).
    public static func graphClient(_ bot: HeraldConfiguration.Bot, logger: Logger) -> GraphClient {
        GraphClient(
            configuration: .init(
                appId: bot.appId, appPassword: bot.appPassword, cloud: Cloud(rawValue: bot.cloud.rawValue) ?? .public,
                graphURL: bot.graphUrl.isEmpty ? nil : bot.graphUrl,
                loginURL: bot.loginUrl.isEmpty ? nil : bot.loginUrl,
                allowedHosts: bot.allowedServiceHosts),
            logger: logger)
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
