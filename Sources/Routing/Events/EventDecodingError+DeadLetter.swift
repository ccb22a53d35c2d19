extension EventDecodingError {
    /// Header names on a dead-letter record.
    public enum DeadLetterHeader {
        public static let errorCode = "herald-error-code"
        public static let errorMessage = "herald-error-message"
        public static let sourceTopic = "herald-source-topic"
        public static let sourcePartition = "herald-source-partition"
        public static let sourceOffset = "herald-source-offset"
        /// On a stored deferred delivery that could not be read back (code `DeferredDeliveryUnreadable`).
        public static let deferralId = "herald-deferral-id"
    }

    /// Headers to add to `record`, republished unchanged on `kafka.deadLetterTopic`: the record's own headers
    /// first, then the error and where the record came from.
    public func deadLetterHeaders(for record: InboundRecord) -> [(name: String, value: [UInt8])] {
        record.headers + [
            (DeadLetterHeader.errorCode, Array(code.rawValue.utf8)),
            (DeadLetterHeader.errorMessage, Array(message.utf8)),
            (DeadLetterHeader.sourceTopic, Array(record.topic.utf8)),
            (DeadLetterHeader.sourcePartition, Array(String(record.partition).utf8)),
            (DeadLetterHeader.sourceOffset, Array(String(record.offset).utf8)),
        ]
    }
}
