/// A store operation failed. `description` is one short line with no secrets (never a URL password, never a
/// payload), fit for a log line or a metric label; `isRetryable` says whether the same call may succeed later.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable {
            case unavailable, timeout, constraint, migration, badURL, corrupt, invalidInput, closed, query
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The database cannot be reached, is restarting, or is busy (locked, deadlock, serialization failure).
        public static let unavailable = Code(.unavailable)
        /// The operation did not finish within ``StoreOptions/operationTimeout``; it may or may not have happened.
        public static let timeout = Code(.timeout)
        /// A uniqueness or other integrity constraint refused the write.
        public static let constraint = Code(.constraint)
        /// A schema migration failed, or the database has a newer schema than this build knows.
        public static let migration = Code(.migration)
        /// The store URL is malformed or names an unsupported scheme.
        public static let badURL = Code(.badURL)
        /// The database file is damaged or is not a database.
        public static let corrupt = Code(.corrupt)
        /// An argument was refused before reaching the database (empty key, value too long, ...).
        public static let invalidInput = Code(.invalidInput)
        /// The store was closed.
        public static let closed = Code(.closed)
        /// Any other failure reported by the database.
        public static let query = Code(.query)

        public var description: String { value.rawValue }
    }

    public var code: Code
    /// One line; bounded to ``maxMessageLength`` characters.
    public var message: String

    /// Longest ``message`` kept.
    public static let maxMessageLength = 300

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message =
            message.count > Self.maxMessageLength ? String(message.prefix(Self.maxMessageLength)) + "…" : message
    }

    /// Unavailable and timed-out calls may succeed when retried; the others will not.
    public var isRetryable: Bool { code == .unavailable || code == .timeout }

    public var description: String { "store \(code): \(message)" }
}
