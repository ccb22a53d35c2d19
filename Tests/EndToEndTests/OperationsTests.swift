import ChildProcess
import Foundation
import Glibc
import Kafka
import TeamsEmulator
import TestSupport
import Testing

/// What operators see of `herald run`: `/metrics`, `/healthz`, `/readyz` and the JSON logs.
extension EndToEnd {
    @Suite("Operations end to end", .serialized)
    struct OperationsTests {
        static let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

        @Test func metricsMatchThePublishedOutcomesAndLogsAreJSONWithoutSecrets() async throws {
            var faults = EmulatorConfiguration.Faults()
            faults.serviceUnavailable = 0.05
            faults.throttled = 0.03
            let rig = try await DeliveryRig(
                emulator: EmulatorConfiguration(
                    appId: DeliveryRig.appId, appPassword: DeliveryRig.appPassword, faults: faults),
                logLevel: "debug")
            defer { Task { await rig.shutdown() } }
            var records = DeliveryRig.notifyEvents(count: 400, recipients: 100).map {
                ProducerMessage(topic: rig.eventsTopic, key: Array($0.key.utf8), value: Array($0.value.utf8))
            }
            // One traced event, three records that are not events, two events no route matches.
            records[7].headers = [KafkaHeader(name: "traceparent", string: Self.traceparent)]
            let tracedEventId = try #require(Self.eventId(of: records[7]))
            for index in 0..<3 {
                records.append(
                    ProducerMessage(topic: rig.eventsTopic, key: nil, value: Array("{not json \(index)".utf8)))
            }
            for index in 0..<2 {
                let event = DeliveryRig.event(id: "nobody-\(index)", type: "test.unrouted", data: [:])
                records.append(ProducerMessage(topic: rig.eventsTopic, key: nil, value: Array(event.utf8)))
            }
            try await rig.publish(messages: records)
            let worker = try await rig.startWorker()
            defer { worker.kill() }
            let port = try await DeliveryRig.httpPort(of: worker)

            let outcomeRecords = try await rig.read(rig.outcomesTopic, timeout: .seconds(120)) { $0.count >= 405 }
            let outcomes = try outcomeRecords.map { try Outcome.decode($0.value) }
            #expect(outcomes.count == 405, "one outcome per delivery, rejected record and unroutable event")
            var expected: [String: Int] = [:]
            for outcome in outcomes { expected["\(outcome.status)/\(outcome.error?.code ?? "none")", default: 0] += 1 }
            #expect(expected["delivered/none"] == 400)
            #expect(expected["unroutable/none"] == 2)

            // Counters are updated once Kafka acknowledges an outcome; a reader may see it a moment earlier.
            var metrics = Metrics(text: "")
            // (On a time-out the expectation below shows the difference.)
            try? await eventually(within: .seconds(30), "metrics to count every published outcome") {
                metrics = Metrics(text: try await DeliveryRig.get(port: port, "/metrics").body)
                return metrics.deliveriesByStatusAndCode == expected
            }
            #expect(metrics.deliveriesByStatusAndCode == expected)
            #expect(metrics.value("herald_events_consumed_total", ["topic": rig.eventsTopic]) == 405)
            #expect(metrics.value("herald_dead_letters_total") == 3)
            #expect(metrics.value("herald_deliveries_in_flight") == 0)
            let teams = try await rig.emulator.stats()
            #expect(teams.throttled > 0 && teams.errors > 0, "the emulator injected faults")
            #expect(metrics.value("herald_teams_throttled_total") == Double(teams.throttled), "every 429 is counted")
            let throttledSeries = metrics.samples.filter { $0.name == "herald_teams_throttled_total" }
            #expect(
                Set(throttledSeries.compactMap { $0.labels["operation"] })
                    == ["send", "update", "delete", "createConversation", "members", "channels"],
                "429s broken down by operation")
            #expect(
                Double(outcomes.reduce(0) { $0 + $1.throttled }) == metrics.value("herald_teams_throttled_total"),
                "outcomes and metrics agree on 429s")
            #expect(
                metrics.value("herald_delivery_retries_total") == Double(teams.throttled + teams.errors),
                "each 429 and 503 was retried once")
            #expect(metrics.value("herald_end_to_end_latency_seconds_count") == 400)
            #expect(
                metrics.value("herald_send_duration_seconds_count") == Double(teams.apiRequests),
                "every Teams call is timed")
            #expect((metrics.value("herald_send_duration_seconds_count", ["operation": "send"]) ?? 0) >= 400)
            #expect((metrics.value("herald_store_operation_duration_seconds_count", ["operation": "claim"]) ?? 0) > 0)
            #expect(metrics.value("herald_token_refreshes_total", ["result": "success"]) == 1)
            #expect(metrics.value("herald_ready") == 1)
            // Every metric the Grafana dashboard and the alert rules use is one this worker exports (the gateway's
            // are checked against a gateway: GatewayEndToEndTests).
            let used = try Self.metricNamesUsedInDeploy().filter { !$0.hasPrefix("herald_gateway_") }
            #expect(used.count >= 10, "the dashboard and the alerts use Herald's metrics: \(used)")
            try? await eventually(within: .seconds(30), "lag to be measured") {
                metrics = Metrics(text: try await DeliveryRig.get(port: port, "/metrics").body)
                return used.allSatisfy(metrics.exports)
            }
            #expect(used.filter { !metrics.exports($0) }.isEmpty, "used in deploy/ but not exported")
            #expect(try await DeliveryRig.get(port: port, "/readyz").status == 200)
            #expect(try await DeliveryRig.get(port: port, "/healthz").status == 200)

            // The traced event: its outcome record carries the trace context, and so do its log records.
            let traced = outcomeRecords.filter { (try? Outcome.decode($0.value))?.eventId == tracedEventId }
            #expect(traced.count == 1)
            #expect(traced.first?.headers.first { $0.name == "traceparent" }?.value == Array(Self.traceparent.utf8))

            worker.terminate()
            #expect(await worker.exit(timeout: .seconds(30)) == .init(status: 0, signalled: false, timedOut: false))
            let logs = worker.text(of: .stderr)
            let lines = logs.split(separator: "\n")
            #expect(lines.count > 400, "debug logs: a record per outcome")
            let objects = lines.compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            }
            #expect(objects.count == lines.count, "every log line is one JSON object")
            #expect(
                objects.allSatisfy { $0["timestamp"] is String && $0["level"] is String && $0["message"] is String })
            #expect(objects.allSatisfy { $0["component"] is String })
            let tracedLogs = objects.filter { $0["eventId"] as? String == tracedEventId }
            #expect(!tracedLogs.isEmpty && tracedLogs.allSatisfy { $0["traceparent"] as? String == Self.traceparent })
            #expect(tracedLogs.allSatisfy { $0["traceId"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736" })

            let output = logs + worker.text(of: .stdout)
            #expect(!output.contains(DeliveryRig.appPassword), "the app password is never logged")
            let tokens = try await rig.emulator.tokens()
            #expect(!tokens.isEmpty)
            for token in tokens { #expect(!output.contains(token), "a bearer token is never logged") }
            #expect(!output.contains("#1 for "), "no message body is logged")
        }

        /// A single-tenant bot left on the default `botframework.com` tenant: Entra refuses its token, so every
        /// delivery would fail. Said at start-up, once, in one line naming the setting that fixes it.
        @Test func aSingleTenantBotOnTheDefaultTenantIsReportedAtStartUpNamingBotTenantId() async throws {
            var emulator = EmulatorConfiguration(appId: DeliveryRig.appId, appPassword: DeliveryRig.appPassword)
            emulator.homeTenant = "contoso.onmicrosoft.com"
            let rig = try await DeliveryRig(emulator: emulator)
            defer { Task { await rig.shutdown() } }
            let worker = try await rig.startWorker()
            defer { worker.kill() }
            let port = try await DeliveryRig.httpPort(of: worker)
            var answer = (status: 0, body: "")
            try await eventually(within: .seconds(60), "not ready: the token was refused") {
                answer = try await DeliveryRig.get(port: port, "/readyz")
                return answer.status == 503 && answer.body.contains("AADSTS700016")
            }
            #expect(answer.body.contains("bot.tenantId"), "\(answer.body)")
            let lines = worker.text(of: .stderr).split(separator: "\n").filter {
                $0.contains("cannot obtain a Teams token")
            }
            #expect(lines.count == 1, "one line, not one per check: \(lines)")
            #expect(lines.first?.contains("AADSTS700016") == true)
            #expect(lines.first?.contains("bot.tenantId") == true)
            #expect(lines.first?.contains(DeliveryRig.appPassword) == false, "the secret is not in it")
            worker.terminate()
            #expect(await worker.exit(timeout: .seconds(30)).status == 0)
        }

        @Test func readinessFollowsPostgreSQLDownAndBack() async throws {
            let postgres = try await ScratchPostgres.start()
            do {
                let rig = try await DeliveryRig(
                    emulator: EmulatorConfiguration(appId: DeliveryRig.appId, appPassword: DeliveryRig.appPassword),
                    storeURL: postgres.url)
                defer { Task { await rig.shutdown() } }
                let worker = try await rig.startWorker()
                defer { worker.kill() }
                let port = try await DeliveryRig.httpPort(of: worker)
                try await eventually(within: .seconds(60), "ready once joined, with store and token") {
                    try await DeliveryRig.get(port: port, "/readyz").status == 200
                }

                try await postgres.control("stop")
                var answer = (status: 0, body: "")
                try await eventually(within: .seconds(60), "not ready while PostgreSQL is down") {
                    answer = try await DeliveryRig.get(port: port, "/readyz")
                    return answer.status == 503
                }
                let body = try #require(
                    try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])
                #expect(body["ready"] as? Bool == false)
                #expect((body["problems"] as? [String: String])?["store"] != nil, "\(answer.body)")
                #expect(!answer.body.contains(ScratchPostgres.password), "no password in the readiness answer")
                #expect(try await DeliveryRig.get(port: port, "/healthz").status == 200, "alive all the same")
                #expect(
                    Metrics(text: try await DeliveryRig.get(port: port, "/metrics").body).value("herald_ready") == 0)

                try await postgres.control("start")
                try await eventually(within: .seconds(60), "ready again once PostgreSQL is back") {
                    try await DeliveryRig.get(port: port, "/readyz").status == 200
                }
                worker.terminate()
                #expect(await worker.exit(timeout: .seconds(30)).status == 0)
            } catch {
                try? await postgres.control("down")
                throw error
            }
            try await postgres.control("down")
        }

        @Test func sigtermWhileTheStoreIsStillOpeningExitsZero() async throws {
            // PostgreSQL that never answers: the worker stays in start-up (the store connecting) for seconds.
            let silent = try SilentListener()
            defer { silent.close() }
            let rig = try await DeliveryRig(
                emulator: EmulatorConfiguration(appId: DeliveryRig.appId, appPassword: DeliveryRig.appPassword),
                storeURL: "postgres://herald:never-answered@127.0.0.1:\(silent.port)/herald")
            defer { Task { await rig.shutdown() } }
            let worker = ChildProcess(HeraldProcess.binary, ["run", "--config", rig.configFile.path])
            try worker.start()
            defer { worker.kill() }
            _ = try await DeliveryRig.httpPort(of: worker)  // printed before the store opens
            worker.terminate()
            let termination = await worker.exit(timeout: .seconds(30))
            #expect(
                termination == .init(status: 0, signalled: false, timedOut: false),
                "SIGTERM during start-up is a clean stop: \(worker.text(of: .stderr).suffix(1000))")
            #expect(worker.text(of: .stderr).contains("stopped by a signal before the worker started"))
        }

        /// The `herald_*` names in deploy/grafana and deploy/prometheus.
        static func metricNamesUsedInDeploy() throws -> Set<String> {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
            var names: Set<String> = []
            for folder in ["deploy/grafana", "deploy/prometheus"] {
                let directory = root.appendingPathComponent(folder)
                for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
                    let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
                    for match in text.matches(of: /herald_[a-z_]+[a-z]/) { names.insert(String(match.output)) }
                }
            }
            return names
        }

        static func eventId(of record: ProducerMessage) -> String? {
            guard let value = record.value,
                let object = try? JSONSerialization.jsonObject(with: Data(value)) as? [String: Any]
            else { return nil }
            return object["id"] as? String
        }
    }
}

/// A Prometheus text exposition, parsed enough for the tests: `name{labels} value` samples.
struct Metrics {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var samples: [Sample] = []

    init(text: String) {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                continue
            }
            let series = line[..<space]
            var labels: [String: String] = [:]
            var name = String(series)
            if let open = series.firstIndex(of: "{"), series.hasSuffix("}") {
                name = String(series[..<open])
                let body = series[series.index(after: open)..<series.index(before: series.endIndex)]
                // Label values here never contain `",`: statuses, codes, operations, topics.
                for pair in body.components(separatedBy: "\",") where !pair.isEmpty {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2 else { continue }
                    labels[String(parts[0])] = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                }
            }
            samples.append(Sample(name: name, labels: labels, value: value))
        }
    }

    /// The sum of `name`'s samples whose labels include `labels`; nil when there is none.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matching = samples.filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
        return matching.isEmpty ? nil : matching.reduce(0) { $0 + $1.value }
    }

    /// `herald_deliveries_total` as `status/code: count`, zero counts left out.
    var deliveriesByStatusAndCode: [String: Int] {
        var result: [String: Int] = [:]
        for sample in samples where sample.name == "herald_deliveries_total" && sample.value > 0 {
            result["\(sample.labels["status"] ?? "")/\(sample.labels["code"] ?? "")", default: 0] += Int(sample.value)
        }
        return result
    }

    /// Whether a series is called `name`, or `name` is a histogram's (its `name_bucket` series exist).
    func exports(_ name: String) -> Bool {
        samples.contains { $0.name == name || $0.name == name + "_bucket" }
    }
}

/// A loopback TCP port whose connections the kernel accepts and nobody ever answers.
final class SilentListener: Sendable {
    let descriptor: Int32
    let port: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, length) == 0 && listen(descriptor, 16) == 0
                    && getsockname(descriptor, generic, &length) == 0
            }
        }
        guard descriptor >= 0, bound else { throw RigError("cannot listen on loopback: errno \(errno)") }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(descriptor) }
}
