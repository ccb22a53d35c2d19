import ChildProcess
import Foundation
import Kafka
import Logging
import Testing

extension EndToEnd {
    @Suite("The herald binary")
    struct CommandLineTests {
        @Test func demoDeliversTheEventMixAndSummarizesIt() async throws {
            let result = try await HeraldProcess.run(["demo", "--events", "400", "--recipients", "100"])
            // The demo fails (non-zero) when an outcome is missing, Teams received more than was delivered, or an install
            // was not captured and welcomed.
            #expect(result.status == 0, "\(result.stderr.suffix(2000))")
            let out = result.stdout
            #expect(out.contains("Herald demo: 400 events for 100 recipients"))
            // 50 failed builds to one channel, digests of at most 25: two messages.
            #expect(
                out.contains("Digests      50 failed builds to 1 team channel arrived as 2 messages (50 delivered"),
                "\(out.suffix(1500))")
            for line in [
                "Outcomes", "delivered", "unroutable", "rejected/NotJSON", "Throughput", "Latency      p50",
                "answered 429",
                "escalations delivered to assignees named by email and members of their tenant's escalation group",
            ] {
                #expect(out.contains(line), "the summary shows \(line)")
            }
            let escalations = out.split(separator: "\n").first { $0.hasPrefix("Directory    ") }
                .flatMap { Int($0.dropFirst("Directory    ".count).prefix(while: \.isNumber)) }
            #expect((escalations ?? 0) > 0, "escalations reached people by email and group members")
            // A third of the users who install the app have Teams in Austrian German, a third in Brazilian
            // Portuguese; the helpdesk names a language for some others: their ticket cards come in it.
            let languages = out.split(separator: "\n").first { $0.hasPrefix("Languages    ") }
                .map { $0.split(separator: " ").compactMap { Int($0) } }
            #expect((languages?.first ?? 0) > 0, "German cards: \(languages ?? [])")
            #expect((languages?.dropFirst().first ?? 0) > 0, "Portuguese cards: \(languages ?? [])")
            // 10 users and 10 teams install the app first: their install events are read too, and welcomed. Then
            // 10 people press a button on a ticket card (5 Acknowledge, 5 "Stop these notifications"): 10 press
            // events, and one more ticket each.
            #expect(out.contains("Kafka        490 records consumed"), "\(out.suffix(1500))")
            #expect(
                out.contains("20 installs heard (40 activities), 20 references captured, 20 conversations welcomed"))
            #expect(
                out.contains(
                    #"Buttons      5 acknowledged, 5 pressed "Stop these notifications"; each was assigned one more ticket: 5 suppressed (OptedOut)"#
                ), "\(out.suffix(600))")
        }

        @Test func kafkaRelayBenchmarkRunsAtSmokeSize() async throws {
            let result = try await HeraldProcess.run([
                "bench", "kafka-relay", "--messages", "3000", "--size", "200", "--json",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            #expect(object?["scenario"] as? String == "kafka-relay")
            #expect(object?["messages"] as? Int == 3000)
            #expect((object?["relayPerSecond"] as? Double ?? 0) > 0)
            #expect((object?["kcatConsumePerSecond"] as? Double ?? 0) > 0, "kcat is installed by the test script")
        }

        @Test func kafkaDevServesOtherProcessesOverTCP() async throws {
            let process = ChildProcess(HeraldProcess.binary, ["kafka-dev", "--topic", "shared:2"])
            try process.start()
            defer { process.kill() }
            // kafka-dev prints its address first, then its topics.
            #expect(await process.line(containing: "topics=") != "")
            let printed = process.text(of: .stdout)
            let line = printed.split(separator: "\n").first { $0.hasPrefix("bootstrap.servers=") } ?? ""
            let bootstrap = String(line.dropFirst("bootstrap.servers=".count))
            #expect(bootstrap.hasPrefix("127.0.0.1:"))

            let logger = Logger(label: "e2e", factory: { _ in SwiftLogNoOpLogHandler() })
            let producer = try KafkaProducer(
                configuration: .init(cluster: .init(bootstrapServers: bootstrap)), logger: logger)
            let report = try await producer.send(
                ProducerMessage(topic: "shared", key: Array("k".utf8), value: Array("hello".utf8)))
            #expect(report.topic == "shared")
            try await producer.shutdown()

            let consumer = try KafkaConsumer(
                configuration: .init(
                    cluster: .init(
                        bootstrapServers: bootstrap,
                        properties: ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]),
                    groupId: "e2e", topics: ["shared"]
                ),
                logger: logger
            )
            try consumer.subscribe()
            var received: [KafkaMessage] = []
            let deadline = ContinuousClock.now + .seconds(30)
            while received.isEmpty, ContinuousClock.now < deadline {
                received += try await consumer.poll()
            }
            #expect(received.map { String(decoding: $0.value, as: UTF8.self) } == ["hello"])
            await consumer.close()

            process.terminate()
            let termination = await process.exit(timeout: .seconds(30))
            #expect(
                termination == .init(status: 0, signalled: false, timedOut: false), "kafka-dev stops cleanly on SIGTERM"
            )
        }

        @Test func badUsageIsOneClearLineAndANonZeroExit() async throws {
            let result = try await HeraldProcess.run(["bench", "no-such-scenario"])
            #expect(result.status != 0)
            #expect(result.stderr.contains("no-such-scenario"))
            #expect(!result.stderr.contains("Fatal error"))

            let badTopic = try await HeraldProcess.run(["kafka-dev", "--topic", "nopartitions"])
            #expect(badTopic.status != 0)
            #expect(badTopic.stderr.contains("--topic"))
        }
    }
}
