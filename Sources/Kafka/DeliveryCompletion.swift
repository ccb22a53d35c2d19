import CRdKafka

/// What waits for one produced record's delivery report; passed to librdkafka as the message opaque
/// (retained until the report arrives, exactly once).
final class DeliveryCompletion: @unchecked Sendable {
    let topic: String
    private let callback: @Sendable (Result<DeliveryReport, KafkaError>) -> Void

    init(topic: String, callback: @escaping @Sendable (Result<DeliveryReport, KafkaError>) -> Void) {
        self.topic = topic
        self.callback = callback
    }

    /// Retains `self` for librdkafka; balanced by ``complete(opaque:message:)`` or ``release(_:)``.
    func retainedOpaque() -> UnsafeMutableRawPointer {
        Unmanaged.passRetained(self).toOpaque()
    }

    /// Balances ``retainedOpaque()`` when librdkafka refused the message and will never report it.
    static func release(_ opaque: UnsafeMutableRawPointer) {
        Unmanaged<DeliveryCompletion>.fromOpaque(opaque).release()
    }

    /// Called from librdkafka's delivery-report callback on the producer's polling thread.
    static func complete(opaque: UnsafeMutableRawPointer, message: UnsafePointer<rd_kafka_message_t>) {
        let completion = Unmanaged<DeliveryCompletion>.fromOpaque(opaque).takeRetainedValue()
        completion.callback(DeliveryReport.result(of: message, topic: completion.topic))
    }
}

extension DeliveryReport {
    /// The outcome librdkafka reported for one produced record.
    static func result(
        of message: UnsafePointer<rd_kafka_message_t>, topic: String
    ) -> Result<DeliveryReport, KafkaError> {
        let err = message.pointee.err
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            return .failure(KafkaError(err, context: "delivery to \(topic) failed"))
        }
        return .success(
            DeliveryReport(topic: topic, partition: message.pointee.partition, offset: message.pointee.offset))
    }
}
