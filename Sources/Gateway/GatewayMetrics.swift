import Metrics
import Routing
import Synchronization

/// The gateway's metrics. Labels are low-cardinality only: activity types Herald knows (anything else is
/// `other`), results, token failure reasons.
final class GatewayMetrics: Sendable {
    enum Name {
        static let requests = "herald_gateway_requests_total"
        static let tokenFailures = "herald_gateway_token_failures_total"
        static let produceDuration = "herald_gateway_kafka_produce_seconds"
        static let inFlight = "herald_gateway_requests_in_flight"
        static let cardActions = "herald_gateway_card_actions_total"
    }

    /// The `result` label.
    enum Result: String, Sendable {
        case accepted, ignored, unauthorized, badRequest, tooLarge, unsupportedMediaType, unavailable
        case notAllowedServiceUrl, methodNotAllowed
    }

    static let knownTypes: Set<String> = [
        "message", "conversationUpdate", "installationUpdate", "invoke", "messageReaction", "event", "typing",
    ]

    private let counters = Mutex<[String: Counter]>([:])
    private let tokenCounters: [TokenRejection: Counter]
    let produce = Timer(label: Name.produceDuration)
    private let inFlightGauge = Gauge(label: Name.inFlight)
    private let inFlight = Atomic<Int>(0)

    init() {
        var tokenCounters: [TokenRejection: Counter] = [:]
        for reason in TokenRejection.allCases {
            tokenCounters[reason] = Counter(label: Name.tokenFailures, dimensions: [("reason", reason.rawValue)])
        }
        self.tokenCounters = tokenCounters
        // Every verb and answer is exported from the start (at 0), so dashboards and alerts see the series before
        // the first press.
        counters.withLock { counters in
            for verb in Self.cardVerbs + ["other"] {
                for answer in ["card", "message", "error"] {
                    counters["card|" + verb + "|" + answer] = Counter(
                        label: Name.cardActions, dimensions: [("verb", verb), ("answer", answer)])
                }
            }
        }
    }

    static let cardVerbs = [CardVerb.optOut, CardVerb.optIn, CardVerb.ack]

    func request(type: String?, _ result: Result) {
        let activity = type.flatMap { Self.knownTypes.contains($0) ? $0 : nil } ?? (type == nil ? "none" : "other")
        let key = activity + "|" + result.rawValue
        let counter = counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: Name.requests, dimensions: [("activity", activity), ("result", result.rawValue)])
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    /// Counts a request in progress until `body` returns.
    func inProgress<T>(_ body: () async -> T) async -> T {
        inFlightGauge.record(inFlight.add(1, ordering: .relaxed).newValue)
        defer { inFlightGauge.record(inFlight.subtract(1, ordering: .relaxed).newValue) }
        return await body()
    }

    /// A pressed button: `verb` is Herald's (`herald.optOut`, `herald.optIn`, `herald.ack`) or `other`; `answer`
    /// `card`, `message` or `error`.
    func cardAction(verb: String, _ answer: CardAnswer) {
        let verbLabel = Self.cardVerbs.contains(verb) ? verb : "other"
        let answerLabel =
            switch answer {
            case .card: "card"
            case .message: "message"
            case .error: "error"
            }
        let key = "card|" + verbLabel + "|" + answerLabel
        let counter = counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: Name.cardActions, dimensions: [("verb", verbLabel), ("answer", answerLabel)])
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    func tokenFailure(_ reason: TokenRejection) {
        tokenCounters[reason]?.increment()
    }
}
