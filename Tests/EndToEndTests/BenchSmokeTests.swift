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
