import CRdKafka
import Glibc
import Logging

/// Reads batches from a consumer's queue into Swift values. Used only on the consumer's polling queue.
final class MessageReader: @unchecked Sendable {
    private let client: RDKafkaClient
    private let queue: OpaquePointer
    private let buffer: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>
    private let capacity: Int
    private var topicNames: [OpaquePointer: String] = [:]
    private let logger: Logger

    init(client: RDKafkaClient, capacity: Int, logger: Logger) {
        self.client = client
        self.queue = client.withHandle { rd_kafka_queue_get_consumer($0)! }
        self.capacity = max(1, capacity)
        self.buffer = .allocate(capacity: self.capacity)
        self.logger = logger
    }

    deinit {
        rd_kafka_queue_destroy(queue)
        buffer.deallocate()
    }

    /// Waits up to `timeoutMilliseconds` for a first message, then takes whatever else is already fetched.
    /// Rebalance callbacks run inside this call.
    func readBatch(timeoutMilliseconds: Int32) -> [KafkaMessage] {
        guard let first = client.withHandle({ rd_kafka_consumer_poll($0, timeoutMilliseconds) }) else { return [] }
        buffer[0] = first
        var count = 1
        if capacity > 1 {
            let more = rd_kafka_consume_batch_queue(queue, 0, buffer + 1, capacity - 1)
            if more > 0 { count += more }
        }
        var messages: [KafkaMessage] = []
        messages.reserveCapacity(count)
        for index in 0..<count {
            guard let message = buffer[index] else { continue }
            defer { rd_kafka_message_destroy(message) }
            if let converted = convert(message) { messages.append(converted) }
        }
        return messages
    }

    private func convert(_ pointer: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaMessage? {
        let message = pointer.pointee
        guard message.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            if message.err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                logger.warning(
                    "Kafka consumer error: \(String(cString: rd_kafka_err2str(message.err)))",
                    metadata: ["kafka.error": "\(String(cString: rd_kafka_err2name(message.err)))"]
                )
            }
            return nil
        }
        let topic = topicName(message.rkt)
        let key = message.key.map { Array(UnsafeRawBufferPointer(start: $0, count: message.key_len)) }
        let value = message.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: message.len)) } ?? []
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(pointer, &timestampType)
        return KafkaMessage(
            topic: topic, partition: message.partition, offset: message.offset, key: key, value: value,
            headers: headers(of: pointer),
            timestampMilliseconds: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp
        )
    }

    private func topicName(_ rkt: OpaquePointer?) -> String {
        guard let rkt else { return "" }
        let cName = rd_kafka_topic_name(rkt)!
        // A topic handle's address could be reused for another topic once freed: check the name too.
        if let name = topicNames[rkt], name.withCString({ strcmp($0, cName) == 0 }) { return name }
        let name = String(cString: cName)
        topicNames[rkt] = name
        return name
    }

    private func headers(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> [KafkaHeader] {
        var list: OpaquePointer?
        guard rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        var headers: [KafkaHeader] = []
        headers.reserveCapacity(rd_kafka_header_cnt(list))
        var index = 0
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get_all(list, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            headers.append(
                KafkaHeader(
                    name: name.map { String(cString: $0) } ?? "",
                    value: value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
                )
            )
            index += 1
        }
        return headers
    }
}
