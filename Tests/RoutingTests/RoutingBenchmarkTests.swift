import Foundation
import HeraldBenchmarks
import Testing

@testable import Routing

@Suite struct RoutingBenchmarkTests {
    /// Checks the benchmark runs and does the work it claims to measure; timings are reported in BENCHMARKS.md,
    /// not asserted (a shared CI machine is too noisy for that).
    @Test func benchmarkPlansTheTypicalEvent() throws {
        let iterations = ProcessInfo.processInfo.environment["ROUTING_BENCHMARK_ITERATIONS"].flatMap(Int.init) ?? 200
        let result = try RoutingBenchmark.run(iterations: iterations)
        print("RoutingBenchmark: \(result)")
        #expect(result.iterations == iterations)
        #expect(result.deliveriesPerEvent == 2)
        #expect(result.cardBytes > 500)
        #expect(result.outcomeBytes > 300, "each delivery's outcome record is encoded")
        #expect(result.nanosecondsPerEvent > 0)
    }
}
