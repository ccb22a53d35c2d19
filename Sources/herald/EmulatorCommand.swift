import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TeamsEmulator

/// `herald emulator`: the Teams emulator on its own, for local development, the demo and benchmarks.
struct EmulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulator",
        abstract:
            "Run the Teams emulator (Bot Connector API, token endpoint, Teams' rate limits) until SIGINT/SIGTERM.",
        discussion: """
            The token endpoint is POST /{tenant}/oauth2/v2.0/token; the Bot Connector API is served under any \
            path prefix, so a serviceUrl can be http://HOST:PORT/teams/. Microsoft Graph's proactive app \
            installation is served under http://HOST:PORT/graph (users/{id}/teamwork/installedApps), with tokens \
            for scope https://graph.microsoft.com/.default. Inspection: GET /emulator/conversations, \
            GET /emulator/stats, GET /emulator/installations, POST /emulator/config, POST /emulator/reset. \
            As Teams towards the bot (--bot-endpoint): POST /emulator/install, /emulator/message, \
            /emulator/activity, /emulator/click (presses a button of a card the bot sent), GET /emulator/inbound, \
            GET /emulator/conversations/{id}/activities/{activityId}; tokens validate against the OpenID metadata at \
            GET /emulator/openid/.well-known/openidconfiguration.
            """
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free port).")
    var port = 0

    @Option(name: .customLong("app-id"), help: "The bot's app id the token endpoint accepts.")
    var appId: String

    @Option(name: .customLong("app-password"), help: "The bot's secret the token endpoint accepts.")
    var appPassword: String

    @Option(help: "The token scope the token endpoint accepts.")
    var scope = "https://api.botframework.com/.default"

    @Option(
        name: .customLong("teams-app-id"),
        help: "The app's id in the organisation's app catalog, the one Microsoft Graph installs for users.")
    var teamsAppId = "00000000-0000-0000-0000-00000000a99a"

    @Option(name: .customLong("token-ttl"), help: "Lifetime of issued tokens, in seconds.")
    var tokenTTL = 3600

    @Option(help: "Rate limits: teams, off, or scaled:K (every count times K).")
    var limits = "teams"

    @Option(name: .customLong("latency-ms"), help: "Delay added to every API answer, in milliseconds.")
    var latencyMs = 0

    @Option(name: .customLong("fault-rate"), help: "Share of API calls answered 412/502/503/504 instead (0...1).")
    var faultRate = 0.0

    @Option(name: .customLong("drop-rate"), help: "Share of API calls whose connection is closed unanswered (0...1).")
    var dropRate = 0.0

    @Option(
        help: """
            Users who blocked the bot, comma separated: ID or ID=SHAPE, SHAPE one of messageWritesBlocked \
            (default), conversationBlockedByUser, noSubCode.
            """
    )
    var blocked = ""

    @Option(
        name: .customLong("bot-endpoint"),
        help: """
            The bot's messaging endpoint (e.g. http://127.0.0.1:3978/api/messages): where POST /emulator/install, \
            /emulator/message and /emulator/activity post activities, as Teams does.
            """)
    var botEndpoint: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func validate() throws {
        guard LimitMode(self.limits) != nil else { throw ValidationError("--limits must be teams, off or scaled:K") }
        guard (0...65_535).contains(self.port) else { throw ValidationError("--port must be within 0...65535") }
        guard self.tokenTTL >= 1 else { throw ValidationError("--token-ttl must be at least 1 second") }
        guard self.latencyMs >= 0 else { throw ValidationError("--latency-ms must not be negative") }
        guard (0...1).contains(self.faultRate), (0...1).contains(self.dropRate), self.faultRate + self.dropRate <= 1
        else { throw ValidationError("--fault-rate and --drop-rate must be within 0...1 and add up to at most 1") }
        guard Logger.Level(rawValue: self.logLevel) != nil else { throw ValidationError("--log-level is not a level") }
        guard !self.teamsAppId.isEmpty else { throw ValidationError("--teams-app-id must not be empty") }
        if let botEndpoint = self.botEndpoint, !EmulatorConfiguration.isValidBotEndpoint(botEndpoint) {
            throw ValidationError("--bot-endpoint must be an absolute http(s) URL")
        }
        _ = try self.blockedUsers()
    }

    func run() async throws {
        var logger = Logger(label: "herald.emulator")
        logger.logLevel = Logger.Level(rawValue: self.logLevel) ?? .info
        var configuration = EmulatorConfiguration(
            appId: self.appId,
            appPassword: self.appPassword,
            scope: self.scope,
            tokenLifetime: .seconds(self.tokenTTL),
            limits: LimitMode(self.limits) ?? .teams,
            latency: .milliseconds(self.latencyMs),
            faults: .init(rate: self.faultRate),
            blocked: try self.blockedUsers()
        )
        configuration.faults.dropConnection = self.dropRate
        configuration.teamsAppId = self.teamsAppId
        configuration.botEndpoint = self.botEndpoint

        let emulator: TeamsEmulator
        do {
            emulator = try await TeamsEmulator.bind(
                configuration: configuration,
                host: self.host,
                port: self.port,
                logger: logger
            )
        } catch {
            throw EmulatorCommandError("cannot listen on \(self.host):\(self.port): \(error)")
        }
        // Written unbuffered, so scripts reading stdout see the line at once.
        let line =
            "Teams emulator listening on \(emulator.origin) serviceUrl \(emulator.serviceUrl) "
            + "tokenUrl \(emulator.tokenURL) limits \(configuration.limits)\n"
        FileHandle.standardOutput.write(Data(line.utf8))
        let group = ServiceGroup(
            services: [emulator],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        try await group.run()
    }

    private func blockedUsers() throws -> [String: EmulatorConfiguration.BlockShape] {
        var users: [String: EmulatorConfiguration.BlockShape] = [:]
        for entry in self.blocked.split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1)
            let id = String(parts[0].filter { !$0.isWhitespace })
            guard !id.isEmpty else { continue }
            var shape = EmulatorConfiguration.BlockShape.messageWritesBlocked
            if parts.count == 2 {
                guard let named = EmulatorConfiguration.BlockShape(rawValue: String(parts[1])) else {
                    throw ValidationError("--blocked: unknown shape \(parts[1])")
                }
                shape = named
            }
            users[id] = shape
        }
        return users
    }
}

/// A command failure, printed as one line.
struct EmulatorCommandError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) { self.description = description }
}
