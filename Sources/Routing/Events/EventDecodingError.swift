/// Why a record is not an event Herald can route. Becomes a `rejected` outcome and a dead-letter record.
public struct EventDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, low-cardinality reason (used as the outcome's `error.code` and a metric label).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The value is not JSON (or not UTF-8).
        public static let notJSON = Code("NotJSON")
        /// The value is JSON but not an object.
        public static let notAnObject = Code("NotAnObject")
        /// The record is larger than `routing.maxEventBytes`.
        public static let tooLarge = Code("EventTooLarge")
        /// `specversion` is present but not `1.0`.
        public static let unsupportedSpecVersion = Code("UnsupportedSpecVersion")
        /// A CloudEvent without `id`.
        public static let missingId = Code("MissingId")
        /// No `type` (attribute, configured field or header).
        public static let missingType = Code("MissingType")
        /// A CloudEvent without `source`.
        public static let missingSource = Code("MissingSource")
        /// An attribute has the wrong JSON type, is too long or malformed (a bad RFC 3339 time, say).
        public static let invalidAttribute = Code("InvalidAttribute")
        /// Binary mode with a content type Herald cannot read as data.
        public static let unsupportedContentType = Code("UnsupportedContentType")
    }

    public var code: Code
    /// One line, naming the attribute; never contains event data beyond a short, escaped excerpt.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Decoding failures are properties of the record: retrying cannot help.
    public var isRetryable: Bool { false }

    public var description: String { "\(code): \(message)" }
}
