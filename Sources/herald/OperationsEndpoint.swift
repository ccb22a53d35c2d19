import CoreMetrics
import Engine
import HeraldHTTP
import HeraldJSON
import Logging
import NIOCore
import Prometheus
import Routing
import ServiceLifecycle

/// `herald run`'s HTTP endpoint for operators: `/metrics` (Prometheus text format), `/healthz` (the process
/// answers) and `/readyz` (``Readiness``: 200 when ready, 503 with what is not).
enum OperationsEndpoint {
    /// The Prometheus registry every metric of the process goes to; bootstrapped once.
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Teams calls and store operations take milliseconds; deliveries end to end and rate-limit waits can
        // take minutes under Teams' limits.
        let fast: [Duration] = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        let slow: [Duration] = [
            .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
            .seconds(900), .seconds(3600),
        ]
        factory.defaultDurationHistogramBuckets = fast
        factory.durationHistogramBuckets = [
            "herald_end_to_end_latency_seconds": slow, "herald_rate_limiter_wait_seconds": slow,
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// The endpoint's place in a command's `ServiceGroup`: listed first, it answers until everything else has
    /// stopped (a group shuts down in reverse order), so `/readyz` reports a drain. Its ending stops nothing else.
    static func service(_ server: HTTPServer) -> ServiceGroupConfiguration.ServiceConfiguration {
        ServiceGroupConfiguration.ServiceConfiguration(
            service: server, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore,
            serviceName: "operations endpoint")
    }

    /// Binds `host:port` (0: any free port) and answers until the returned server is shut down.
    static func bind(host: String, port: Int, readiness: Readiness, logger: Logger) async throws -> HTTPServer {
        try await bind(host: host, port: port, problems: { readiness.problems() }, logger: logger)
    }

    /// Binds `host:port`; `/readyz` reports `problems` (empty: ready).
    static func bind(
        host: String, port: Int, problems readinessProblems: @escaping @Sendable () -> [Readiness.Problem],
        logger: Logger
    ) async throws -> HTTPServer {
        let registry = self.registry
        return try await HTTPServer.bind(
            configuration: .init(host: host, port: port, maxBodySize: 4096), logger: logger
        ) { request in
            guard request.method == .GET || request.method == .HEAD else {
                return .json(.methodNotAllowed, #"{"error":"only GET"}"#)
            }
            switch request.path {
            case "/metrics":
                var buffer: [UInt8] = []
                buffer.reserveCapacity(16_384)
                registry.emit(into: &buffer)
                return HTTPResponse(
                    status: .ok, headers: ["content-type": "text/plain; version=0.0.4; charset=utf-8"],
                    body: ByteBuffer(bytes: buffer))
            case "/healthz":
                return .json(.ok, #"{"status":"alive"}"#)
            case "/readyz":
                let problems = readinessProblems()
                var body: [UInt8] = []
                JSONWriter.append(
                    .object([
                        JSONMember("ready", .bool(problems.isEmpty)),
                        JSONMember(
                            "problems", .object(problems.map { JSONMember($0.check, .string($0.reason)) })),
                    ]), to: &body)
                return .json(problems.isEmpty ? .ok : .serviceUnavailable, ByteBuffer(bytes: body))
            default:
                return .json(.notFound, #"{"error":"not found: /metrics, /healthz, /readyz"}"#)
            }
        }
    }
}
