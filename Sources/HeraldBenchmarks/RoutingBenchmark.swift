import Foundation
import HeraldConfig
import HeraldJSON
import Routing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Measures the per-event CPU path of a typical event (a 758-byte CloudEvent, a ticket-assignment card with
/// actions, two recipients) on the calling thread: decode, route, render, and encode one outcome record per
/// delivery. Used by `herald bench event-path` and BENCHMARKS.md; no test asserts timings.
package enum RoutingBenchmark {
    package struct Result: Sendable, CustomStringConvertible {
        package var iterations: Int
        /// Wall-clock time per event.
        package var nanosecondsPerEvent: Double
        /// CPU time of the calling thread per event.
        package var cpuNanosecondsPerEvent: Double
        /// CPU time of decoding alone per event.
        package var decodeCPUNanosecondsPerEvent: Double
        /// CPU time of encoding the event's outcome records alone per event.
        package var encodeCPUNanosecondsPerEvent: Double
        /// Size of one outcome record.
        package var outcomeBytes: Int
        /// Deliveries planned per event (2 for the typical event).
        package var deliveriesPerEvent: Int
        /// Size of the rendered card.
        package var cardBytes: Int

        package var description: String {
            String(
                format:
                    "%d events: %.2f µs/event wall, %.2f µs/event CPU (decode alone %.2f µs, outcome encoding "
                    + "alone %.2f µs), %d deliveries/event, %d-byte card, %d-byte outcome",
                iterations, nanosecondsPerEvent / 1000, cpuNanosecondsPerEvent / 1000,
                decodeCPUNanosecondsPerEvent / 1000, encodeCPUNanosecondsPerEvent / 1000, deliveriesPerEvent,
                cardBytes, outcomeBytes)
        }
    }

    /// Runs `iterations` events (after a warm-up of a tenth as many).
    package static func run(iterations: Int) throws -> Result {
        let (routeSet, problems) = RouteSet.parse(
            yaml: routesYAML, file: "benchmark-routes.yaml", readTemplate: { _ in ("card.json", Array(cardJSON.utf8)) })
        guard let routeSet, problems.isEmpty else {
            throw BenchmarkError(message: problems.map(\.description).joined(separator: "; "))
        }
        let router = Router(routes: routeSet.routes)
        let decoder = EventDecoder()
        let record = InboundRecord(
            topic: "notifications", partition: 3, offset: 1234, value: Array(eventJSON.utf8),
            headers: [("traceparent", Array("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".utf8))])
        let now = Date(timeIntervalSince1970: 1_750_000_000)
        var deliveries = 0
        var cardBytes = 0
        var outcomeBytes = 0
        func outcomes(_ event: NotificationEvent, _ plans: [Delivery]) throws -> Int {
            var bytes = 0
            for plan in plans {
                var outcome = DeliveryOutcome(
                    delivery: plan, event: event, status: .delivered, completedAt: now, worker: "bench/1")
                outcome.conversationId = "a:1benchmark"
                outcome.activityId = "1750000000000"
                outcome.attempts = 1
                bytes = try outcome.jsonBytes().count
            }
            return bytes
        }
        func once() throws {
            let event = try decoder.decode(record)
            let result = router.route(event, now: now)
            deliveries = result.deliveries.count
            if case .card(let bytes) = result.deliveries.first?.message.body { cardBytes = bytes.count }
            outcomeBytes = try outcomes(event, result.deliveries)
        }
        for _ in 0..<max(1, iterations / 10) { try once() }
        let cpuStart = threadCPUNanoseconds()
        let start = ContinuousClock.now
        for _ in 0..<iterations { try once() }
        let elapsed = ContinuousClock.now - start
        let cpu = threadCPUNanoseconds() - cpuStart
        let decodeStart = threadCPUNanoseconds()
        for _ in 0..<iterations { _ = try decoder.decode(record) }
        let decodeCPU = threadCPUNanoseconds() - decodeStart
        let event = try decoder.decode(record)
        let plans = router.route(event, now: now).deliveries
        let encodeStart = threadCPUNanoseconds()
        for _ in 0..<iterations { _ = try outcomes(event, plans) }
        let encodeCPU = threadCPUNanoseconds() - encodeStart
        let wall = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        return Result(
            iterations: iterations, nanosecondsPerEvent: wall / Double(iterations),
            cpuNanosecondsPerEvent: Double(cpu) / Double(iterations),
            decodeCPUNanosecondsPerEvent: Double(decodeCPU) / Double(iterations),
            encodeCPUNanosecondsPerEvent: Double(encodeCPU) / Double(iterations), outcomeBytes: outcomeBytes,
            deliveriesPerEvent: deliveries, cardBytes: cardBytes)
    }

    static func threadCPUNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    struct BenchmarkError: Error, CustomStringConvertible {
        var message: String
        var description: String { "benchmark routes do not compile: \(message)" }
    }
}
