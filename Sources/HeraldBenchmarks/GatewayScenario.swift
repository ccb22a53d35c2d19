import AsyncHTTPClient
import ChildProcess
import Engine
import Foundation
import Kafka
import Logging
import NIOCore
import TeamsEmulator

/// `herald bench gateway`: authenticated activities through `herald gateway` (its own process, so its CPU and
/// memory are its own), from `clients` concurrent connections: each a personal install of a different user,
/// signed by the emulator's keys, answered once Kafka (embedded) acknowledged its reference and event. Unpaced
/// (as fast as the gateway answers), then paced at `rate` activities per second.
package struct GatewayScenario {
    var activities: Int
    var clients: Int
    var rate: Int
    let logger: Logger

    package init(activities: Int, clients: Int, rate: Int, logger: Logger) {
        self.activities = activities
        self.clients = clients
        self.rate = rate
        self.logger = logger
    }

    package struct Result {
        var name: String
        var activities: Int
        var accepted: Int
        var seconds: Double
        var p50Ms: Double
        var p99Ms: Double
        var cpuSeconds: Double
        var peakRssBytes: Int
        var clients: Int

        var perSecond: Double { Double(activities) / max(seconds, 0.001) }
        var cpuMillisecondsPerActivity: Double { cpuSeconds * 1000 / Double(max(activities, 1)) }

        package var object: [String: Any] {
            [
                "scenario": name, "activities": activities, "accepted": accepted, "clients": clients,
                "activitiesPerSecond": perSecond.rounded(), "p50Ms": (p50Ms * 100).rounded() / 100,
                "p99Ms": (p99Ms * 100).rounded() / 100,
                "cpuMillisecondsPerActivity": (cpuMillisecondsPerActivity * 1000).rounded() / 1000,
                "peakRssBytes": peakRssBytes,
            ]
        }

        package var row: String {
            String(
                format: "%@ %6d activities (%d accepted), %d clients  %7.0f/s  p50 %6.2f ms  p99 %6.2f ms  "
                    + "cpu %.3f ms/activity  rss %d MB",
                name.padding(toLength: 20, withPad: " ", startingAt: 0), activities, accepted, clients, perSecond,
                p50Ms, p99Ms, cpuMillisecondsPerActivity, peakRssBytes / 1_048_576)
        }
    }

    static let appId = "00000000-0000-0000-0000-00000000bec4"
    static let tenant = "b3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d6e"

    package func run() async throws -> [Result] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "herald-bench-gw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let kafka = try EmbeddedKafka(brokers: 1, logger: logger)
        // About 5 MB per partition in the mock cluster: enough that nothing is dropped.
        try kafka.createTopic("references", partitions: 16)
        try kafka.createTopic("interactions", partitions: 16)
        try kafka.createTopic("events", partitions: 1)
        let configuration = EmulatorConfiguration(appId: Self.appId, appPassword: "bench-secret", limits: .off)
        return try await TeamsEmulator.withRunning(configuration: configuration, logger: logger) { emulator in
            let config = """
                kafka:
                  brokers: "\(kafka.bootstrapServers)"
                  eventsTopics: [events]
                  referencesTopic: references
                  interactionsTopic: interactions
                bot:
                  appId: "\(Self.appId)"
                  appPassword: bench-secret
                  tokenUrl: "\(emulator.tokenURL)"
                  allowedServiceHosts: ["\(emulator.origin)"]
                store:
                  url: "sqlite://\(folder.path)/herald.db"
                routing:
                  routesFile: routes.yaml
                gateway:
                  host: 127.0.0.1
                  port: 0
                  openIdMetadataUrl: "\(emulator.openIdMetadataURL)"
                http:
                  port: 0
                log:
                  level: warning
                """
            let file = folder.appendingPathComponent("herald.yaml")
            try config.write(to: file, atomically: true, encoding: .utf8)
            let herald = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            let gateway = ChildProcess(herald, ["gateway", "--config", file.path], collectOutput: true)
            try gateway.start()
            defer { gateway.kill() }
            let line = await gateway.line(containing: "gateway.port=")
            guard let port = Int(line.dropFirst("gateway.port=".count)) else {
                throw BenchError("herald gateway did not start: \(gateway.text(of: .stderr).suffix(1000))")
            }
            let token = "Bearer " + emulator.botToken(.valid, serviceUrl: emulator.serviceUrl)
            let http = HTTPClient(
                eventLoopGroupProvider: .singleton,
                configuration: .init(
                    connectionPool: .init(
                        idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: clients)))
            defer { Task { try? await http.shutdown() } }
            let url = "http://127.0.0.1:\(port)/api/messages"
            // Warm up: keys read, connections open, code paged in.
            _ = try await load(
                http, url: url, token: token, serviceUrl: emulator.serviceUrl, count: 200, from: 0, rate: nil)
            var results: [Result] = []
            var next = 200
            for (name, rate) in [("gateway", nil as Int?), ("gateway-paced", rate)] {
                let before = ProcessUsage(pid: gateway.processIdentifier)
                let started = ContinuousClock.now
                let (latencies, accepted) = try await load(
                    http, url: url, token: token, serviceUrl: emulator.serviceUrl, count: activities, from: next,
                    rate: rate)
                let elapsed = ContinuousClock.now - started
                let after = ProcessUsage(pid: gateway.processIdentifier)
                next += activities
                let sorted = latencies.sorted()
                func percentile(_ p: Double) -> Double {
                    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p / 100))]
                }
                results.append(
                    Result(
                        name: rate == nil ? name : "\(name)-\(rate!)", activities: activities, accepted: accepted,
                        seconds: elapsed.seconds, p50Ms: percentile(50), p99Ms: percentile(99),
                        cpuSeconds: after.cpuSeconds - before.cpuSeconds, peakRssBytes: after.peakRssBytes,
                        clients: clients))
            }
            gateway.terminate()
            _ = await gateway.exit(timeout: .seconds(20))
            return results
        }
    }

    /// Sends `count` installs from `clients` concurrent clients (paced to `rate` per second in total when set);
    /// returns each request's latency in milliseconds and how many were answered 200.
    private func load(
        _ http: HTTPClient, url: String, token: String, serviceUrl: String, count: Int, from first: Int, rate: Int?
    ) async throws -> ([Double], Int) {
        let started = ContinuousClock.now
        return try await withThrowingTaskGroup(of: ([Double], Int).self) { group in
            for client in 0..<clients {
                group.addTask {
                    var latencies: [Double] = []
                    var accepted = 0
                    var index = client
                    while index < count {
                        if let rate {
                            let due = started + .nanoseconds(Int64(index) * 1_000_000_000 / Int64(rate))
                            if due > ContinuousClock.now { try await Task.sleep(until: due) }
                        }
                        var request = HTTPClientRequest(url: url)
                        request.method = .POST
                        request.headers.add(name: "authorization", value: token)
                        request.headers.add(name: "content-type", value: "application/json")
                        request.body = .bytes(
                            ByteBuffer(bytes: Self.install(user: first + index, serviceUrl: serviceUrl)))
                        let sent = ContinuousClock.now
                        let response = try await http.execute(request, timeout: .seconds(30))
                        _ = try await response.body.collect(upTo: 1 << 16)
                        latencies.append((ContinuousClock.now - sent).seconds * 1000)
                        if response.status == .ok { accepted += 1 }
                        index += clients
                    }
                    return (latencies, accepted)
                }
            }
            var latencies: [Double] = []
            var accepted = 0
            for try await (part, ok) in group {
                latencies += part
                accepted += ok
            }
            return (latencies, accepted)
        }
    }

    /// A personal-scope `installationUpdate` of user number `user`, as Teams sends it.
    static func install(user: Int, serviceUrl: String) -> [UInt8] {
        let aad = String(format: "00000000-0000-4000-8000-%012d", user)
        return Array(
            """
            {"type":"installationUpdate","action":"add","id":"f:bench-\(user)","timestamp":"2026-12-02T10:00:00.000Z",\
            "serviceUrl":"\(serviceUrl)","channelId":"msteams",\
            "from":{"id":"29:1\(aad)","aadObjectId":"\(aad)","name":"User \(user)"},\
            "recipient":{"id":"28:\(appId)","name":"Herald"},\
            "conversation":{"id":"a:1\(aad)","conversationType":"personal","tenantId":"\(tenant)"},\
            "channelData":{"tenant":{"id":"\(tenant)"}},"locale":"en-US",\
            "entities":[{"type":"clientInfo","locale":"en-US","timezone":"Europe/Berlin"}]}
            """.utf8)
    }
}

extension Duration {
    fileprivate var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
