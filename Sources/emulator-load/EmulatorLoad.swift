import ArgumentParser
import BotConnector
import Foundation
import Logging
import TeamsEmulator

/// Measures how many sends per second the Teams emulator serves to the Bot Connector client:
/// `--concurrency` workers, each sending to its own conversation in a loop for `--seconds`.
/// Without `--url` an emulator is started in this process (limits off).
@main
struct EmulatorLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulator-load",
        abstract: "Load the Teams emulator with the Bot Connector client and print sends/s and latency percentiles."
    )

    @Option(help: "Origin of a running emulator (http://127.0.0.1:PORT); default: start one in this process.")
    var url: String?

    @Option(name: .customLong("app-id"), help: "App id the emulator accepts.")
    var appId = "bench-app"

    @Option(name: .customLong("app-password"), help: "Secret the emulator accepts.")
    var appPassword = "bench-secret"

    @Option(help: "Concurrent senders, each with its own conversation.")
    var concurrency = 32

    @Option(help: "How long to send, in seconds.")
    var seconds = 10

    func run() async throws {
        let logger = Logger(label: "emulator-load")
        if let url {
            try await self.measure(origin: url, logger: logger)
            return
        }
        let emulator = try await TeamsEmulator.bind(
            configuration: EmulatorConfiguration(appId: self.appId, appPassword: self.appPassword, limits: .off),
            logger: logger
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await emulator.run() }
            try await self.measure(origin: emulator.origin, logger: logger)
            emulator.shutdown()
            try await group.waitForAll()
        }
    }

    private func measure(origin: String, logger: Logger) async throws {
        let client = BotConnectorClient(
            configuration: .init(
                appId: self.appId,
                appPassword: self.appPassword,
                tokenURL: "\(origin)/botframework.com/oauth2/v2.0/token",
                defaultServiceUrl: "\(origin)/teams/",
                allowedServiceHosts: [origin]
            ),
            maxConnectionsPerHost: self.concurrency,
            logger: logger
        )
        var conversations: [String] = []
        for index in 0..<self.concurrency {
            let created = try await client.createConversation(
                serviceUrl: nil,
                ConversationParameters(target: .user(id: "29:1load\(index)"), tenantId: "load-tenant")
            )
            conversations.append(created.id)
        }
        let activity = MessageActivity.text("Load test message with **markdown**", summary: "load", alert: true)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(self.seconds)
        let started = clock.now
        let (latencies, failures) = try await withThrowingTaskGroup(of: ([Duration], Int).self) { group in
            for conversationId in conversations {
                group.addTask {
                    var latencies: [Duration] = []
                    latencies.reserveCapacity(16_384)
                    var failures = 0
                    while clock.now < deadline {
                        let start = clock.now
                        do {
                            _ = try await client.sendActivity(serviceUrl: nil, conversationId: conversationId, activity)
                            latencies.append(clock.now - start)
                        } catch {
                            failures += 1
                        }
                    }
                    return (latencies, failures)
                }
            }
            var all: [Duration] = []
            var failures = 0
            for try await (latencies, failed) in group {
                all += latencies
                failures += failed
            }
            return (all.sorted(), failures)
        }
        let elapsed = clock.now - started
        try await client.shutdown()

        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            let value = latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
            return Double(value.components.attoseconds) / 1e15 + Double(value.components.seconds) * 1000
        }
        print(
            String(
                format: "concurrency %d  sends %d  failures %d  %.1f s  %.0f sends/s  p50 %.2f ms  p99 %.2f ms",
                self.concurrency, latencies.count, failures, seconds, Double(latencies.count) / seconds,
                percentile(0.50), percentile(0.99)
            )
        )
    }
}
