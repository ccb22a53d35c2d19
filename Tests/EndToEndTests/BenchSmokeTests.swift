import ChildProcess
import Foundation
import Testing

/// Each `herald bench` delivery scenario at a tiny size, so none can rot. The figures themselves are not
/// checked here (they belong in BENCHMARKS.md); what is checked is that every run delivers everything and
/// reports every field.
extension EndToEnd {
    @Suite("Benchmark scenarios, smoke size", .serialized)
    struct BenchSmokeTests {
        static let fields = [
            "scenario", "deliveries", "deliveriesPerSecond", "p50Ms", "p99Ms", "throttled", "cpuSecondsPer1000",
            "peakRssBytes", "makespanSeconds",
        ]

        static func runs(_ arguments: [String]) async throws -> [[String: Any]] {
            let result = try await HeraldProcess.run(["bench"] + arguments + ["--json"], timeout: .seconds(300))
            #expect(result.status == 0, "\(result.stderr.suffix(1500))")
            return result.stdout.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }

        static func expectComplete(
            _ run: [String: Any], deliveries: Int, sourceLocation: SourceLocation = #_sourceLocation
        ) {
            for field in fields {
                #expect(run[field] != nil, "\(field) is reported", sourceLocation: sourceLocation)
            }
            #expect(run["deliveries"] as? Int == deliveries, sourceLocation: sourceLocation)
            #expect(
                run["delivered"] as? Int == deliveries, "every delivery was delivered", sourceLocation: sourceLocation)
            #expect(
                (run["peakRssBytes"] as? Int ?? 0) > 1_000_000, "the worker's memory was read",
                sourceLocation: sourceLocation)
        }

        @Test func throughputReportsTheEmulatorsRawRateToo() async throws {
            let runs = try await Self.runs(["throughput", "--deliveries", "300", "--raw-seconds", "1"])
            try #require(runs.count == 1)
            Self.expectComplete(runs[0], deliveries: 300)
            #expect((runs[0]["rawHttpPerSecond"] as? Double ?? 0) > 0)
        }

        @Test func limitBoundScenariosReportTheirMinimum() async throws {
            for (scenario, size) in [("fanout", 300), ("hot-conversation", 80), ("multi-tenant", 200)] {
                let runs = try await Self.runs([scenario, "--deliveries", "\(size)"])
                try #require(runs.count == 1, "\(scenario)")
                Self.expectComplete(runs[0], deliveries: size)
                #expect(runs[0]["minimumSeconds"] != nil, "\(scenario) reports the limit-bound minimum")
            }
        }

        @Test func theEventPathMicroBenchmarkReportsEachStep() async throws {
            let runs = try await Self.runs(["event-path", "--messages", "500"])
            try #require(runs.count == 1)
            #expect(runs[0]["events"] as? Int == 500)
            #expect(runs[0]["deliveriesPerEvent"] as? Int == 2)
            for field in ["cpuMicrosecondsPerEvent", "decodeCpuMicrosecondsPerEvent", "encodeCpuMicrosecondsPerEvent"] {
                #expect((runs[0][field] as? Double ?? 0) > 0, "\(field) is measured")
            }
            #expect((runs[0]["outcomeBytes"] as? Int ?? 0) > 300)
        }

        @Test func scaleOutRunsOneAndThreeWorkersOnPostgreSQL() async throws {
            let url = try #require(
                ProcessInfo.processInfo.environment["HERALD_TEST_POSTGRES_URL"],
                "run the tests through scripts/test.sh (it starts PostgreSQL)")
            let runs = try await Self.runs(["scale-out", "--deliveries", "200", "--raw-seconds", "0", "--store", url])
            #expect(runs.map { $0["workers"] as? Int } == [1, 3, 1, 3])
            for run in runs { Self.expectComplete(run, deliveries: 200) }
        }
    }
}

extension EndToEnd.BenchSmokeTests {
    @Test func backlogRunsTheSameLoadWithATenfoldBacklog() async throws {
        let runs = try await Self.runs(["backlog", "--deliveries", "200", "--raw-seconds", "0"])
        try #require(runs.count == 2)
        Self.expectComplete(runs[0], deliveries: 200)
        Self.expectComplete(runs[1], deliveries: 2_000)
        #expect(runs.map { $0["scenario"] as? String } == ["backlog/200", "backlog/2000"])
    }

    @Test func soakPublishesAtItsRateAndSamplesTheWorkersMemory() async throws {
        let runs = try await Self.runs([
            "soak", "--soak-rate", "50", "--soak-minutes", "0.2", "--sample-seconds", "2",
        ])
        try #require(runs.count == 1)
        Self.expectComplete(runs[0], deliveries: 600)
        #expect(runs[0]["publishedPerSecond"] as? Int == 50)
        let samples = runs[0]["rssSamplesBytes"] as? [Int] ?? []
        #expect(samples.count >= 3, "a sample every 2 s of a 12 s run: \(samples)")
        #expect(samples.allSatisfy { $0 > 1_000_000 }, "each sample read the worker's memory")
        #expect(runs[0]["rssSlopeBytesPerHour"] != nil)
    }

    /// The peer here is Herald itself, configured from what `compare` tells a peer (a user brings their own):
    /// it must find the broker, the events, the token endpoint and the conversations from the environment alone.
    @Test func compareRunsAPeerWorkerOnTheSameSetup() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-peer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let routes = """
            routes:
              - name: peer
                match: { type: "bench.notify" }
                to:
                  - user: { aadObjectId: "${data.user}", tenantId: "${data.tenant}" }
                message:
                  text: "Notification ${data.seq} for you"
            """
        try routes.write(to: folder.appendingPathComponent("routes.yaml"), atomically: true, encoding: .utf8)
        let script = """
            set -eu
            dir='\(folder.path)'
            # Every user's conversation is in the references file, one Bot Framework reference per line.
            [ "$(wc -l < "$HERALD_PEER_REFERENCES")" -eq 4 ] || { echo "expected 4 references" >&2; exit 3; }
            cat > "$dir/peer.yaml" <<YAML
            kafka:
              brokers: "$HERALD_PEER_BROKERS"
              groupId: "$HERALD_PEER_GROUP_ID"
              eventsTopics: ["$HERALD_PEER_EVENTS_TOPIC"]
              outcomesTopic: outcomes
              deadLetterTopic: dead-letters
            bot:
              appId: "$HERALD_PEER_APP_ID"
              appPassword: "$HERALD_PEER_APP_PASSWORD"
              tokenUrl: "$HERALD_PEER_TOKEN_URL"
              defaultServiceUrl: "$HERALD_PEER_SERVICE_URL"
              allowedServiceHosts: ["${HERALD_PEER_SERVICE_URL%/teams/}"]
            store:
              url: "sqlite://$dir/peer.db"
            routing:
              routesFile: "$dir/routes.yaml"
            delivery:
              rateLimits:
                perTenantPerSecond: 100000
                perConversation: [{count: 100000, seconds: 1}]
            http:
              port: 0
            YAML
            exec '\(HeraldProcess.binary.path)' run --config "$dir/peer.yaml" --log-level warning
            """
        try script.write(to: folder.appendingPathComponent("peer.sh"), atomically: true, encoding: .utf8)
        let runs = try await Self.runs([
            "compare", "--deliveries", "120", "--raw-seconds", "0", "--peer",
            "sh \(folder.appendingPathComponent("peer.sh").path)",
        ])
        try #require(runs.count == 2)
        #expect(runs.map { $0["scenario"] as? String } == ["compare/herald", "compare/peer"])
        Self.expectComplete(runs[0], deliveries: 120)
        #expect(runs[1]["deliveries"] as? Int == 120, "the emulator received one message per event from the peer")
        #expect((runs[1]["peakRssBytes"] as? Int ?? 0) > 1_000_000, "the peer's own process was measured")
        #expect(runs[1]["p50Ms"] is NSNull, "a peer's latencies are not known")
    }
}
