import CRdKafka

/// An error from the Kafka layer: a librdkafka error code, or one of Herald's own.
///
/// `description` is one line a user can act on; `code.name` is short and bounded, fit for a metric label.
public struct KafkaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, as a small closed set plus librdkafka's own response codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Kind: Hashable, Sendable {
            case invalidProperty
            case clientCreation
            case fatal
            case closed
            case timedOut
            case queueFull
            case librdkafka(Int32)
        }
        fileprivate let kind: Kind

        /// A `kafka.properties` entry librdkafka does not know or rejects.
        public static let invalidProperty = Code(kind: .invalidProperty)
        /// librdkafka refused to create the client (conflicting or missing settings).
        public static let clientCreation = Code(kind: .clientCreation)
        /// The client hit a fatal error (e.g. the idempotent producer lost its guarantees); recreate it.
        public static let fatal = Code(kind: .fatal)
        /// The client was already closed.
        public static let closed = Code(kind: .closed)
        /// An operation did not complete within its timeout.
        public static let timedOut = Code(kind: .timedOut)
        /// The producer's local queue is full.
        public static let queueFull = Code(kind: .queueFull)

        /// A librdkafka response code (`rd_kafka_resp_err_t`), local (negative) or from the broker.
        public static func librdkafka(_ raw: Int32) -> Code { Code(kind: .librdkafka(raw)) }

        /// The librdkafka response code, when there is one.
        public var librdkafkaCode: Int32? {
            if case .librdkafka(let raw) = kind { return raw }
            return nil
        }

        /// A short stable name, e.g. `invalid_property` or librdkafka's `_TRANSPORT`.
        public var name: String {
            switch kind {
            case .invalidProperty: "invalid_property"
            case .clientCreation: "client_creation"
            case .fatal: "fatal"
            case .closed: "closed"
            case .timedOut: "timed_out"
            case .queueFull: "queue_full"
            case .librdkafka(let raw): String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(raw)))
            }
        }

        public var description: String { name }
    }

    public let code: Code
    /// A human-readable explanation; never contains secrets.
    public let message: String
    /// Whether retrying the same operation later can succeed.
    public let isRetryable: Bool

    public init(code: Code, message: String, isRetryable: Bool = false) {
        self.code = code
        self.message = message
        self.isRetryable = isRetryable
    }

    public var description: String { message }

    public static func == (lhs: KafkaError, rhs: KafkaError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message
    }
}

extension KafkaError {
    /// Wraps a librdkafka response code, with librdkafka's own explanation.
    init(_ err: rd_kafka_resp_err_t, context: String) {
        let text = String(cString: rd_kafka_err2str(err))
        self.init(
            code: .librdkafka(err.rawValue),
            message: "\(context): \(text)",
            isRetryable: KafkaError.retryableCodes.contains(err.rawValue)
        )
    }

    /// Takes ownership of an `rd_kafka_error_t` and destroys it.
    init(consuming error: OpaquePointer, context: String) {
        defer { rd_kafka_error_destroy(error) }
        let err = rd_kafka_error_code(error)
        let text = String(cString: rd_kafka_error_string(error))
        let isFatal = rd_kafka_error_is_fatal(error) != 0
        self.init(
            code: isFatal ? .fatal : .librdkafka(err.rawValue),
            message: "\(context): \(text)",
            isRetryable: !isFatal
                && (rd_kafka_error_is_retriable(error) != 0 || KafkaError.retryableCodes.contains(err.rawValue))
        )
    }

    static func closed(_ what: String) -> KafkaError {
        KafkaError(code: .closed, message: "\(what) is closed")
    }

    private static let retryableCodes: Set<Int32> = Set(
        [
            RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
            RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
            RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
            RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION,
            // The member rejoins the group on its own; a commit made after that succeeds.
            RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID, RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION,
            // After an outage the client looks its group coordinator up again; a commit meanwhile answers this.
            RD_KAFKA_RESP_ERR__WAIT_COORD,
        ].map(\.rawValue))
}
