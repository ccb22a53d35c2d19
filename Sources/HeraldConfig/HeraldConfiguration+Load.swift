import Foundation
import Yams

extension HeraldConfiguration {
    /// Loads `file`, applies `HERALD_*` overrides from `environment`, and checks every key.
    /// Throws ``ConfigError`` listing every problem (unknown keys, type errors, missing required keys).
    public static func load(
        file: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> HeraldConfiguration {
        let (configuration, problems) = check(file: file, environment: environment)
        guard let configuration, problems.isEmpty else { throw ConfigError(problems: problems) }
        return configuration
    }

    /// Loads `file` and returns what could be read together with every problem found.
    public static func check(
        file: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> (HeraldConfiguration?, [ConfigProblem]) {
        guard let data = FileManager.default.contents(atPath: file) else {
            return (nil, [ConfigProblem(file: file, path: "", message: "cannot read the configuration file")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return (nil, [ConfigProblem(file: file, path: "", message: "the file is not UTF-8")])
        }
        let base = (file as NSString).deletingLastPathComponent
        return parse(yaml: text, file: file, baseDirectory: base.isEmpty ? "." : base, environment: environment)
    }

    /// Parses configuration YAML text; `file` names it in problems.
    public static func parse(
        yaml: String, file: String, baseDirectory: String, environment: [String: String]
    ) -> (HeraldConfiguration?, [ConfigProblem]) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            return (nil, [YAMLProblem.problem(from: error, file: file)])
        }
        var reader = ConfigKeyReader(file: file, root: root, environment: environment)
        if let root, root.mapping == nil {
            reader.problem("", at: root, "the configuration must be a map of sections (kafka, bot, store, ...)")
            return (nil, reader.problems)
        }
        let configuration = read(&reader, baseDirectory: baseDirectory)
        reader.reportUnknownKeys()
        return (configuration, reader.problems)
    }

    static func read(_ r: inout ConfigKeyReader, baseDirectory: String) -> HeraldConfiguration {
        var kafka = Kafka(brokers: r.string("kafka.brokers", default: nil), eventsTopics: [])
        kafka.groupId = r.string("kafka.groupId", default: kafka.groupId)
        kafka.eventsTopics = r.stringList("kafka.eventsTopics", default: nil)
        if kafka.eventsTopics.isEmpty, r.raw("kafka.eventsTopics") != nil {
            r.problem("kafka.eventsTopics", at: r.node("kafka.eventsTopics"), "needs at least one topic")
        }
        kafka.outcomesTopic = r.string("kafka.outcomesTopic", default: kafka.outcomesTopic)
        kafka.deadLetterTopic = r.string("kafka.deadLetterTopic", default: kafka.deadLetterTopic)
        kafka.referencesTopic = r.string("kafka.referencesTopic", default: kafka.referencesTopic)
        kafka.interactionsTopic = r.string("kafka.interactionsTopic", default: kafka.interactionsTopic)
        for (key, value) in [
            ("kafka.groupId", kafka.groupId), ("kafka.outcomesTopic", kafka.outcomesTopic),
            ("kafka.deadLetterTopic", kafka.deadLetterTopic),
        ] where value.isEmpty {
            r.problem(key, at: r.node(key), "must not be empty")
        }
        if kafka.eventsTopics.contains("") {
            r.problem("kafka.eventsTopics", at: r.node("kafka.eventsTopics"), "a topic name must not be empty")
        }
        kafka.properties = r.stringMap("kafka.properties")

        var bot = Bot(appId: r.string("bot.appId", default: nil))
        bot.appPassword = r.secret("bot.appPassword", default: "", baseDirectory: baseDirectory)
        bot.tenantId = r.string("bot.tenantId", default: bot.tenantId)
        bot.cloud = r.choice("bot.cloud", default: bot.cloud)
        bot.tokenUrl = r.string("bot.tokenUrl", default: "")
        bot.scope = r.string("bot.scope", default: "")
        bot.defaultServiceUrl = r.string("bot.defaultServiceUrl", default: "")
        bot.allowedServiceHosts = r.stringList("bot.allowedServiceHosts", default: [])
        bot.proactiveInstall = r.bool("bot.proactiveInstall", default: false)
        bot.teamsAppId = r.string("bot.teamsAppId", default: "")
        bot.graphUrl = r.string("bot.graphUrl", default: "")
        bot.loginUrl = r.string("bot.loginUrl", default: "")
        bot.installsPerTenantPerSecond = r.int(
            "bot.installsPerTenantPerSecond", default: bot.installsPerTenantPerSecond, range: 1...1000)
        if bot.proactiveInstall, bot.teamsAppId.isEmpty {
            r.problem(
                "bot.teamsAppId", at: r.node("bot.proactiveInstall"),
                "required with bot.proactiveInstall: the app's id in the organisation's app catalog")
        }
        for key in ["bot.tokenUrl", "bot.defaultServiceUrl", "bot.graphUrl", "bot.loginUrl"] {
            let value =
                switch key {
                case "bot.tokenUrl": bot.tokenUrl
                case "bot.defaultServiceUrl": bot.defaultServiceUrl
                case "bot.graphUrl": bot.graphUrl
                default: bot.loginUrl
                }
            if !value.isEmpty, !value.hasPrefix("https://"), !value.hasPrefix("http://") {
                r.problem(key, at: r.node(key), "\"\(value)\" is not an http(s) URL")
            }
        }
        for host in bot.allowedServiceHosts where !Self.isServiceHostEntry(host) {
            r.problem(
                "bot.allowedServiceHosts", at: r.node("bot.allowedServiceHosts"),
                "\"\(host)\" is not a host, host:port or scheme://host[:port] (no path)")
        }

        let store = Store(url: r.secret("store.url", default: nil, baseDirectory: baseDirectory))
        if !store.url.isEmpty, !store.url.hasPrefix("sqlite://"), !store.url.hasPrefix("postgres://"),
            !store.url.hasPrefix("postgresql://")
        {
            r.problem("store.url", at: r.node("store.url"), "must start with sqlite:// or postgres://")
        }

        var routing = Routing(routesFile: r.string("routing.routesFile", default: nil))
        routing.maxEventBytes = r.int("routing.maxEventBytes", default: routing.maxEventBytes, range: 1024...16_777_216)
        routing.maxMessageBytes = r.int(
            "routing.maxMessageBytes", default: routing.maxMessageBytes, range: 1024...262_144)
        routing.maxValueBytes = r.int("routing.maxValueBytes", default: routing.maxValueBytes, range: 16...1_048_576)
        routing.events.typeField = r.string("routing.events.typeField", default: routing.events.typeField)
        routing.events.typeHeader = r.string("routing.events.typeHeader", default: "")
        routing.events.idField = r.string("routing.events.idField", default: "")
        routing.events.sourceField = r.string("routing.events.sourceField", default: "")
        routing.events.timeField = r.string("routing.events.timeField", default: "")

        var delivery = Delivery()
        delivery.maxInFlight = r.int("delivery.maxInFlight", default: delivery.maxInFlight, range: 1...1_000_000)
        delivery.maxAttempts = r.int("delivery.maxAttempts", default: delivery.maxAttempts, range: 1...1000)
        delivery.maxRetryDelay = r.duration("delivery.maxRetryDelay", default: delivery.maxRetryDelay)
        delivery.giveUpAfter = r.duration("delivery.giveUpAfter", default: delivery.giveUpAfter)
        delivery.rateLimits.perConversation = r.conversationLimits("delivery.rateLimits.perConversation")
        delivery.rateLimits.perTenantPerSecond = r.int(
            "delivery.rateLimits.perTenantPerSecond", default: delivery.rateLimits.perTenantPerSecond,
            range: 1...100_000)
        delivery.blockedRecheckAfter = r.duration("delivery.blockedRecheckAfter", default: delivery.blockedRecheckAfter)
        delivery.shutdownGracePeriod = r.duration("delivery.shutdownGracePeriod", default: delivery.shutdownGracePeriod)
        delivery.onUncertain = r.choice("delivery.onUncertain", default: delivery.onUncertain)

        var http = HTTP()
        http.port = r.int("http.port", default: http.port, range: 0...65535)
        http.host = r.string("http.host", default: http.host)
        var log = Log()
        log.level = r.string("log.level", default: log.level)
        if !Log.levels.contains(log.level) {
            r.problem(
                "log.level", at: r.node("log.level"),
                "\"\(log.level)\" is not one of \(Log.levels.joined(separator: ", "))")
        }
        log.format = r.choice("log.format", default: log.format)

        var directory = Directory()
        directory.cacheFor = r.duration("directory.cacheFor", default: directory.cacheFor)
        directory.notFoundCacheFor = r.duration("directory.notFoundCacheFor", default: directory.notFoundCacheFor)
        directory.perTenantPerSecond = r.int(
            "directory.perTenantPerSecond", default: directory.perTenantPerSecond, range: 1...10_000)

        let gateway = readGateway(&r)
        if gateway.enabled, kafka.referencesTopic.isEmpty {
            r.problem(
                "kafka.referencesTopic", at: r.node("gateway.enabled"),
                "required with gateway.enabled: the gateway publishes the references it captures there")
        }
        return HeraldConfiguration(
            kafka: kafka, bot: bot, store: store, routing: routing, delivery: delivery, http: http, log: log,
            gateway: gateway, directory: directory, baseDirectory: baseDirectory)
    }

    static func readGateway(_ r: inout ConfigKeyReader) -> Gateway {
        var gateway = Gateway()
        gateway.enabled = r.bool("gateway.enabled", default: gateway.enabled)
        gateway.host = r.string("gateway.host", default: gateway.host)
        gateway.port = r.int("gateway.port", default: gateway.port, range: 0...65535)
        gateway.path = r.string("gateway.path", default: gateway.path)
        if !gateway.path.hasPrefix("/") || gateway.path.contains("?") {
            r.problem("gateway.path", at: r.node("gateway.path"), "must be a path starting with / (no query)")
        }
        gateway.openIdMetadataUrl = r.string("gateway.openIdMetadataUrl", default: "")
        if !gateway.openIdMetadataUrl.isEmpty, !gateway.openIdMetadataUrl.hasPrefix("https://"),
            !gateway.openIdMetadataUrl.hasPrefix("http://")
        {
            r.problem(
                "gateway.openIdMetadataUrl", at: r.node("gateway.openIdMetadataUrl"),
                "\"\(gateway.openIdMetadataUrl)\" is not an http(s) URL")
        }
        gateway.maxBodyBytes = r.int(
            "gateway.maxBodyBytes", default: gateway.maxBodyBytes, range: 1024...16_777_216)
        gateway.invokeTimeout = r.duration("gateway.invokeTimeout", default: gateway.invokeTimeout)
        gateway.produceTimeout = r.duration("gateway.produceTimeout", default: gateway.produceTimeout)
        gateway.replyToMessages = r.string("gateway.replyToMessages", default: gateway.replyToMessages)
        return gateway
    }

    /// `routing.routesFile` resolved against the configuration file's folder.
    public var routesFilePath: String {
        routing.routesFile.hasPrefix("/") ? routing.routesFile : baseDirectory + "/" + routing.routesFile
    }
}

extension HeraldConfiguration {
    /// `host` or `host:port` (https), or `http(s)://host[:port]` with nothing after the authority.
    static func isServiceHostEntry(_ entry: String) -> Bool {
        var rest = Substring(entry)
        for scheme in ["https://", "http://"] where rest.hasPrefix(scheme) {
            rest = rest.dropFirst(scheme.count)
            break
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        return !rest.isEmpty && !rest.contains("/") && !rest.contains(" ") && !rest.contains("://")
    }
}
