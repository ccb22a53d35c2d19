/// Herald's whole configuration: the YAML file, with every key overridable by an environment variable
/// (`kafka.brokers` -> `HERALD_KAFKA_BROKERS`). Load it with ``load(file:environment:)``.
public struct HeraldConfiguration: Sendable {
    public var kafka: Kafka
    public var bot: Bot
    public var store: Store
    public var routing: Routing
    public var delivery: Delivery
    public var http: HTTP
    public var log: Log
    public var gateway: Gateway = Gateway()
    public var directory: Directory = Directory()

    /// The folder of the configuration file: relative paths (`routing.routesFile`) resolve against it.
    public var baseDirectory: String

    /// `kafka.*`
    public struct Kafka: Sendable {
        /// Comma-separated `host:port` list, or `embedded` for librdkafka's mock cluster. Required.
        public var brokers: String
        /// Default: `herald`.
        public var groupId: String = "herald"
        /// Required, at least one.
        public var eventsTopics: [String]
        /// Default: `notification-outcomes`.
        public var outcomesTopic: String = "notification-outcomes"
        /// Default: `notifications-dlq`.
        public var deadLetterTopic: String = "notifications-dlq"
        /// Optional compacted topic of conversation references. Default: empty (none).
        public var referencesTopic: String = ""
        /// CloudEvents the gateway publishes (installs, messages, card actions). Default: `teams-interactions`.
        public var interactionsTopic: String = "teams-interactions"
        /// Passed to librdkafka as-is (`security.protocol`, `sasl.*`, `ssl.*`). Default: empty.
        /// From the environment: `HERALD_KAFKA_PROPERTIES="k=v,k=v"`.
        public var properties: [String: String] = [:]

        public var isEmbedded: Bool { brokers == "embedded" }
    }

    /// `bot.*`
    public struct Bot: Sendable {
        /// The bot's Microsoft App ID. Required.
        public var appId: String
        /// The client secret; or `appPasswordFile`. Default: empty. Never logged.
        public var appPassword: String = ""
        /// Default: `botframework.com` (multi-tenant bots).
        public var tenantId: String = "botframework.com"
        /// Default: `public`.
        public var cloud: Cloud = .public
        /// Overrides the cloud's token URL. Default: empty (the cloud's).
        public var tokenUrl: String = ""
        /// Overrides the cloud's token scope. Default: empty (the cloud's).
        public var scope: String = ""
        /// Overrides the cloud's global service URL. Default: empty (the cloud's).
        public var defaultServiceUrl: String = ""
        /// Hosts allowed besides the cloud's Teams hosts (and, with proactive installation, its Graph host).
        /// Default: none.
        public var allowedServiceHosts: [String] = []
        /// Install the app through Microsoft Graph for users who never installed it. Default: false.
        public var proactiveInstall = false
        /// The app's id in the organisation's app catalog (not the bot's app id); required with
        /// ``proactiveInstall``. Default: empty.
        public var teamsAppId: String = ""
        /// Overrides the cloud's Microsoft Graph URL (`https://graph.microsoft.com`). Default: empty.
        public var graphUrl: String = ""
        /// Overrides the cloud's sign-in host for Graph tokens (`https://login.microsoftonline.com`).
        /// Default: empty.
        public var loginUrl: String = ""
        /// App installations started per tenant per second. Default: 5.
        public var installsPerTenantPerSecond = 5

        /// The national clouds Teams runs in.
        public enum Cloud: String, Sendable, CaseIterable {
            case `public`, gcc, gcch, dod
        }
    }

    /// `store.*`
    public struct Store: Sendable {
        /// `sqlite:///path/herald.db` or `postgres://user:pass@host/db`; or `urlFile`. Required.
        public var url: String
    }
}

extension HeraldConfiguration.Kafka: CustomStringConvertible {
    /// Everything but `properties`, whose values may hold SASL passwords.
    public var description: String {
        "Kafka(brokers: \(brokers), groupId: \(groupId), eventsTopics: \(eventsTopics), "
            + "outcomesTopic: \(outcomesTopic), properties: \(properties.keys.sorted()))"
    }
}

extension HeraldConfiguration.Bot: CustomStringConvertible {
    /// Everything but the password.
    public var description: String {
        "Bot(appId: \(appId), tenantId: \(tenantId), cloud: \(cloud.rawValue), appPassword: \(appPassword.isEmpty ? "unset" : "set"))"
    }
}

extension HeraldConfiguration.Store: CustomStringConvertible {
    /// The URL without its password.
    public var description: String {
        guard let at = url.lastIndex(of: "@"), let scheme = url.range(of: "://") else { return "Store(\(url))" }
        return "Store(\(url[..<scheme.upperBound])***\(url[at...]))"
    }
}
