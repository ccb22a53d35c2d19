import Foundation
import Testing

@testable import HeraldConfig

@Suite struct ConfigurationLoadingTests {
    static let minimal = """
        kafka:
          brokers: embedded
          eventsTopics: [notifications]
        bot:
          appId: app-1
        store:
          url: "sqlite:///tmp/h.db"
        routing:
          routesFile: routes.yaml
        """

    func parse(
        _ yaml: String, env: [String: String] = [:], base: String = "/tmp"
    ) -> (HeraldConfiguration?, [ConfigProblem]) {
        HeraldConfiguration.parse(yaml: yaml, file: "herald.yaml", baseDirectory: base, environment: env)
    }

    @Test func emptyValuesFromTheEnvironmentAreProblemsNamingTheirKeys() {
        let (_, problems) = parse(
            Self.minimal,
            env: [
                "HERALD_STORE_URL": "", "HERALD_KAFKA_EVENTS_TOPICS": "", "HERALD_KAFKA_GROUP_ID": "",
                "HERALD_KAFKA_OUTCOMES_TOPIC": "",
            ])
        let keys = Set(problems.map(\.path))
        #expect(keys == ["store.url", "kafka.eventsTopics", "kafka.groupId", "kafka.outcomesTopic"], "\(problems)")
    }

    @Test func proactiveInstallationNeedsTheCatalogAppIdAndReadsItsOverrides() throws {
        let (_, missing) = parse(Self.minimal, env: ["HERALD_BOT_PROACTIVE_INSTALL": "true"])
        #expect(missing.map(\.path) == ["bot.teamsAppId"], "\(missing)")
        let (_, notABool) = parse(Self.minimal, env: ["HERALD_BOT_PROACTIVE_INSTALL": "yes please"])
        #expect(notABool.map(\.path) == ["HERALD_BOT_PROACTIVE_INSTALL"], "\(notABool)")
        let (config, problems) = parse(
            Self.minimal,
            env: [
                "HERALD_BOT_PROACTIVE_INSTALL": "true", "HERALD_BOT_TEAMS_APP_ID": "catalog-app",
                "HERALD_BOT_GRAPH_URL": "http://127.0.0.1:3978/graph", "HERALD_BOT_LOGIN_URL": "http://127.0.0.1:3978",
                "HERALD_BOT_INSTALLS_PER_TENANT_PER_SECOND": "2",
            ])
        #expect(problems.isEmpty, "\(problems)")
        let bot = try #require(config).bot
        #expect(bot.proactiveInstall && bot.teamsAppId == "catalog-app" && bot.installsPerTenantPerSecond == 2)
        #expect(bot.graphUrl == "http://127.0.0.1:3978/graph" && bot.loginUrl == "http://127.0.0.1:3978")
        let (_, badURL) = parse(Self.minimal, env: ["HERALD_BOT_GRAPH_URL": "graph.example"])
        #expect(badURL.map(\.path) == ["HERALD_BOT_GRAPH_URL"], "\(badURL)")
    }

    @Test func minimalFileGetsTheDocumentedDefaults() throws {
        let (config, problems) = parse(Self.minimal)
        #expect(problems.isEmpty)
        let c = try #require(config)
        #expect(c.kafka.isEmbedded)
        #expect(c.kafka.groupId == "herald")
        #expect(c.kafka.outcomesTopic == "notification-outcomes")
        #expect(c.kafka.deadLetterTopic == "notifications-dlq")
        #expect(c.bot.tenantId == "botframework.com")
        #expect(c.bot.cloud == .public)
        #expect(c.delivery.maxInFlight == 2000)
        #expect(c.delivery.maxRetryDelay == .seconds(300))
        #expect(c.delivery.giveUpAfter == .seconds(86_400))
        #expect(c.delivery.shutdownGracePeriod == .seconds(30))
        #expect(c.delivery.onUncertain == .fail)
        #expect(c.delivery.rateLimits.perConversation == .teams)
        #expect(c.delivery.rateLimits.perConversation.windows.map(\.count) == [7, 8, 60, 1800])
        #expect(c.delivery.rateLimits.perTenantPerSecond == 50)
        #expect(c.http.port == 8080)
        #expect(c.log.format == .json)
        #expect(c.routesFilePath == "/tmp/routes.yaml")
    }

    @Test func environmentNamesAreUpperSnakeCasedKeyPaths() {
        #expect(ConfigKeyReader.environmentName("kafka.brokers") == "HERALD_KAFKA_BROKERS")
        #expect(
            ConfigKeyReader.environmentName("delivery.rateLimits.perTenantPerSecond")
                == "HERALD_DELIVERY_RATE_LIMITS_PER_TENANT_PER_SECOND")
        #expect(ConfigKeyReader.environmentName("bot.appPasswordFile") == "HERALD_BOT_APP_PASSWORD_FILE")
    }

    @Test func environmentOverridesEveryKind() throws {
        let (config, problems) = parse(
            Self.minimal,
            env: [
                "HERALD_KAFKA_BROKERS": "k1:9092,k2:9092",
                "HERALD_KAFKA_EVENTS_TOPICS": "a, b",
                "HERALD_DELIVERY_RATE_LIMITS_PER_TENANT_PER_SECOND": "20",
                "HERALD_DELIVERY_RATE_LIMITS_PER_CONVERSATION": "3/1,50/60",
                "HERALD_DELIVERY_SHUTDOWN_GRACE_PERIOD": "500ms",
                "HERALD_KAFKA_PROPERTIES": "security.protocol=SASL_SSL,sasl.mechanism=PLAIN",
                "HERALD_LOG_FORMAT": "text",
                "HERALD_DELIVERY_ON_UNCERTAIN": "resend",
            ])
        #expect(problems.isEmpty)
        let c = try #require(config)
        #expect(c.kafka.brokers == "k1:9092,k2:9092")
        #expect(c.kafka.eventsTopics == ["a", "b"])
        #expect(c.delivery.rateLimits.perTenantPerSecond == 20)
        #expect(
            c.delivery.rateLimits.perConversation.windows == [
                .init(count: 3, seconds: 1), .init(count: 50, seconds: 60),
            ])
        #expect(c.delivery.shutdownGracePeriod == .milliseconds(500))
        #expect(c.kafka.properties == ["security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN"])
        #expect(c.log.format == .text)
        #expect(c.delivery.onUncertain == .resend)
    }

    @Test func secretsAreReadFromFilesWithoutTheTrailingNewline() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herald-cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "s3cr3t\n".write(to: dir.appendingPathComponent("pw"), atomically: true, encoding: .utf8)
        let yaml = Self.minimal.replacingOccurrences(of: "appId: app-1", with: "appId: app-1\n  appPasswordFile: pw")
        let (config, problems) = parse(yaml, base: dir.path)
        #expect(problems.isEmpty)
        #expect(config?.bot.appPassword == "s3cr3t")
        #expect(config.map { "\($0.bot)" }?.contains("s3cr3t") == false)
    }

    @Test func bothSecretAndFileIsAProblem() {
        let yaml = Self.minimal.replacingOccurrences(
            of: "appId: app-1", with: "appId: app-1\n  appPassword: x\n  appPasswordFile: /nonexistent")
        let (_, problems) = parse(yaml)
        #expect(problems.contains { $0.path == "bot.appPasswordFile" && $0.message.contains("not both") })
    }

    @Test func durationsParseInEveryUnit() {
        #expect(DurationParser.parse("500ms") == .milliseconds(500))
        #expect(DurationParser.parse("30s") == .seconds(30))
        #expect(DurationParser.parse("5m") == .seconds(300))
        #expect(DurationParser.parse("24h") == .seconds(86_400))
        #expect(DurationParser.parse("1h30m") == .seconds(5400))
        #expect(DurationParser.parse("2d") == .seconds(172_800))
        #expect(DurationParser.parse("45") == .seconds(45))
        #expect(DurationParser.parse("5 minutes") == nil)
        #expect(DurationParser.parse("m5") == nil)
        #expect(DurationParser.parse("") == nil)
        #expect(DurationParser.parse("1e300") == nil, "no overflow trap")
        #expect(DurationParser.parse("99999999999999999999s") == nil)
        #expect(DurationParser.parse("-5s") == nil)
        #expect(DurationParser.parse("nan") == nil)
    }

    @Test func everyProblemIsReportedWithItsKeyPathAndLine() {
        let yaml = """
            kafka:
              brokers: embedded
              eventsTopics: [notifications]
              groupID: wrong-case
            bot:
              appId: app-1
              cloud: moon
            store:
              url: "mysql://x"
            routing:
              routesFile: routes.yaml
            delivery:
              maxAttempts: many
              giveUpAfter: tomorrow
              rateLimits:
                perConversation: [{count: 0, seconds: 1}]
            http:
              port: 70000
            logging: {}
            """
        let (_, problems) = parse(yaml)
        let byPath = Dictionary(problems.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byPath["kafka.groupID"]?.line == 4)
        #expect(byPath["kafka.groupID"]?.message == "unknown key (did you mean kafka.groupId?)")
        #expect(byPath["bot.cloud"]?.line == 7)
        #expect(byPath["store.url"]?.message.contains("sqlite://") == true)
        #expect(byPath["delivery.maxAttempts"]?.message == "expected a whole number, got \"many\"")
        #expect(byPath["delivery.giveUpAfter"]?.line == 14)
        #expect(byPath["delivery.rateLimits.perConversation"] != nil)
        #expect(byPath["http.port"]?.message.contains("out of range") == true)
        #expect(byPath["logging"]?.message.hasPrefix("unknown key") == true)
        #expect(problems.count == 8)
        #expect(problems.allSatisfy { $0.description.hasPrefix("herald.yaml:") })
    }

    @Test func missingRequiredKeysNameTheKeyAndItsVariable() {
        let (_, problems) = parse("kafka:\n  groupId: g\n")
        let paths = Set(problems.map(\.path))
        #expect(
            paths.isSuperset(of: [
                "kafka.brokers", "kafka.eventsTopics", "bot.appId", "store.url", "routing.routesFile",
            ]))
        let brokers = problems.first { $0.path == "kafka.brokers" }
        #expect(brokers?.message.contains("HERALD_KAFKA_BROKERS") == true)
        let error = ConfigError(problems: problems)
        #expect(error.description.contains("more problems"))
    }

    @Test func requiredKeysMayComeFromTheEnvironmentAlone() {
        let (config, problems) = parse(
            "{}",
            env: [
                "HERALD_KAFKA_BROKERS": "embedded", "HERALD_KAFKA_EVENTS_TOPICS": "t", "HERALD_BOT_APP_ID": "a",
                "HERALD_STORE_URL": "postgres://u:p@h/db", "HERALD_ROUTING_ROUTES_FILE": "/r.yaml",
            ])
        #expect(problems.isEmpty)
        #expect(config?.store.description == "Store(postgres://***@h/db)")
    }

    @Test func yamlSyntaxErrorsCarryTheirLine() {
        let (_, problems) = parse("kafka:\n  brokers: [unclosed\nbot: {}\n")
        #expect(problems.count == 1)
        #expect(problems.first?.line != nil)
        #expect(problems.first?.message.hasPrefix("YAML syntax") == true)
    }
}

@Suite struct ConfigurationValueTests {
    @Test func urlsAndHostsAreChecked() {
        let yaml =
            ConfigurationLoadingTests.minimal + """

                bot:
                  appId: a
                  tokenUrl: "ftp://x"
                  defaultServiceUrl: "smba.trafficmanager.net/emea"
                  allowedServiceHosts: ["https://host/path", "ok.example.com"]
                """
        let (_, problems) = HeraldConfiguration.parse(
            yaml: yaml.replacingOccurrences(of: "bot:\n  appId: app-1\n", with: ""), file: "h.yaml",
            baseDirectory: "/", environment: [:])
        #expect(Set(problems.map(\.path)) == ["bot.tokenUrl", "bot.defaultServiceUrl", "bot.allowedServiceHosts"])
        #expect(problems.count == 3)
    }

    @Test func descriptionsNeverShowSecrets() throws {
        let (config, _) = HeraldConfiguration.parse(
            yaml: ConfigurationLoadingTests.minimal, file: "h.yaml", baseDirectory: "/",
            environment: ["HERALD_BOT_APP_PASSWORD": "hunter2", "HERALD_KAFKA_PROPERTIES": "sasl.password=hunter3"])
        let c = try #require(config)
        #expect(c.bot.appPassword == "hunter2")
        #expect(!"\(c.bot)".contains("hunter2"))
        #expect(!"\(c.kafka)".contains("hunter3"))
        #expect("\(c.kafka)".contains("sasl.password"))
    }

    @Test func conversationWindowsFromTheFile() throws {
        let yaml =
            ConfigurationLoadingTests.minimal + """

                delivery:
                  rateLimits:
                    perConversation: [{ count: 7, seconds: 1 }, { count: 60, seconds: 30.5 }]
                """
        let (config, problems) = HeraldConfiguration.parse(
            yaml: yaml, file: "h.yaml", baseDirectory: "/", environment: [:])
        #expect(problems.isEmpty, "\(problems)")
        #expect(
            config?.delivery.rateLimits.perConversation
                == .windows([.init(count: 7, seconds: 1), .init(count: 60, seconds: 30.5)]))
    }
}
