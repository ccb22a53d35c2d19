extension HeraldConfiguration {
    /// `routing.*`
    public struct Routing: Sendable {
        /// Routing rules, relative to the configuration file's folder. Required.
        public var routesFile: String
        /// Largest event record accepted; larger ones are rejected (`EventTooLarge`). Default: 1048576 (1 MiB).
        public var maxEventBytes: Int = 1_048_576
        /// Largest rendered card or text message. Default: 102400 (100 KiB, Teams' activity limit).
        public var maxMessageBytes: Int = 81_920
        /// Largest single value substituted into a template. Default: 32768.
        public var maxValueBytes: Int = 32_768
        /// How plain JSON events (not CloudEvents) are read.
        public var events: Events = Events()

        /// `routing.events.*`: plain JSON events.
        public struct Events: Sendable {
            /// JSON path of the event type. Default: `type`.
            public var typeField: String = "type"
            /// Kafka header holding the event type, consulted first. Default: empty (none).
            public var typeHeader: String = ""
            /// JSON path of the event id. Default: empty (`topic/partition/offset`).
            public var idField: String = ""
            /// JSON path of the event source. Default: empty (`/kafka/<topic>`).
            public var sourceField: String = ""
            /// JSON path of the event time. Default: empty (the record timestamp).
            public var timeField: String = ""
        }
    }

    /// `delivery.*`
    public struct Delivery: Sendable {
        /// Deliveries in progress per worker (backpressure bound). Default: 2000.
        public var maxInFlight: Int = 2000
        /// Default: 10.
        public var maxAttempts: Int = 10
        /// Default: 5 min.
        public var maxRetryDelay: Duration = .seconds(300)
        /// A delivery still failing this long after its event is failed. Default: 24 h.
        public var giveUpAfter: Duration = .seconds(86_400)
        public var rateLimits: RateLimits = RateLimits()
        /// Default: 24 h.
        public var blockedRecheckAfter: Duration = .seconds(86_400)
        /// Default: 30 s.
        public var shutdownGracePeriod: Duration = .seconds(30)
        /// A delivery whose Teams request a crash cut short. Default: `fail`.
        public var onUncertain: UncertainDeliveryPolicy = .fail

        /// `delivery.rateLimits.*`
        public struct RateLimits: Sendable {
            /// Default: Teams' published per-thread limits.
            public var perConversation: ConversationLimits = .teams
            /// Teams' per-app-per-tenant limit, shared by the group. Default: 50.
            public var perTenantPerSecond: Int = 50
        }

        /// Per-conversation windows.
        public enum ConversationLimits: Sendable, Hashable {
            /// 7/1 s, 8/2 s, 60/30 s, 1800/3600 s.
            case teams
            case windows([Window])

            public var windows: [Window] {
                switch self {
                case .teams:
                    [
                        Window(count: 7, seconds: 1), Window(count: 8, seconds: 2), Window(count: 60, seconds: 30),
                        Window(count: 1800, seconds: 3600),
                    ]
                case .windows(let w): w
                }
            }
        }

        /// At most `count` messages in any `seconds`.
        public struct Window: Sendable, Hashable {
            public var count: Int
            public var seconds: Double
            public init(count: Int, seconds: Double) {
                self.count = count
                self.seconds = seconds
            }
        }
    }

    /// `http.*`
    public struct HTTP: Sendable {
        /// `/metrics`, `/healthz`, `/readyz`; 0 picks a free port (`herald run` prints it). Default: 8080.
        public var port: Int = 8080
        /// The address to listen on. Default: `0.0.0.0` (every interface, as probes and scrapers need).
        public var host: String = "0.0.0.0"
    }

    /// `gateway.*`: the bot's messaging endpoint (`herald gateway`, or `herald run` with `enabled`).
    public struct Gateway: Sendable {
        /// `herald run` also serves the messaging endpoint. Default: false.
        public var enabled = false
        /// Default: `0.0.0.0`.
        public var host: String = "0.0.0.0"
        /// Default: 3978 (TLS ends at the ingress); 0 picks a free port.
        public var port: Int = 3978
        /// Default: `/api/messages`.
        public var path: String = "/api/messages"
        /// Override of the cloud's Bot Framework OpenID metadata URL. Default: empty (the cloud's).
        public var openIdMetadataUrl: String = ""
        /// Larger request bodies are answered 413. Default: 262144.
        public var maxBodyBytes: Int = 262_144
        /// Card actions must be answered before Teams gives up. Default: 4 s.
        public var invokeTimeout: Duration = .seconds(4)
        /// How long an activity may wait for Kafka before it is answered 503 (Teams retries). Default: 10 s.
        public var produceTimeout: Duration = .seconds(10)
        /// Sent back to a user who writes to the bot; empty sends nothing.
        public var replyToMessages: String = "This app sends notifications; it does not read messages."
    }

    /// `directory.*`: people named by email or UPN and groups, looked up in the tenant's directory (Microsoft Graph).
    public struct Directory: Sendable {
        /// How long a person's email/UPN → user answer is used before Graph is asked again. Default: 24 h.
        public var cacheFor: Duration = .seconds(86_400)
        /// How long "nobody has this address" is believed. Default: 1 h.
        public var notFoundCacheFor: Duration = .seconds(3_600)
        /// Graph directory requests per tenant per second for the whole consumer group. Default: 100 (well inside
        /// Graph's identity limit for the smallest tenants: 3,500 resource units per 10 s per app per tenant).
        public var perTenantPerSecond: Int = 100

        public init() {}
    }

    /// `log.*`
    public struct Log: Sendable {
        /// `trace`, `debug`, `info`, `notice`, `warning`, `error`, `critical`. Default: `info`.
        public var level: String = "info"
        /// Default: `json`.
        public var format: Format = .json

        public enum Format: String, Sendable, CaseIterable {
            case json, text
        }

        public static let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
    }
}
