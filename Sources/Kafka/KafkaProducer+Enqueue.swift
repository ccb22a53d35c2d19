import CRdKafka

extension KafkaProducer {
    /// Hands one record to librdkafka (which copies key, value and headers). Returns the error when refused.
    func enqueue(_ message: ProducerMessage, opaque: UnsafeMutableRawPointer) -> KafkaError? {
        if isClosed { return .closed("Kafka producer") }
        if let fatal = fatalError { return fatal }
        let headers = Self.makeHeaders(message.headers)
        let error: OpaquePointer? = message.topic.withCString { topic in
            withOptionalBytes(message.key) { key in
                withOptionalBytes(message.value) { value in
                    // At most 8 arguments: on the stack, not the heap (this runs once per record).
                    withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 8) { vus in
                        var count = 0
                        func add(_ type: rd_kafka_vtype_t, _ fill: (inout rd_kafka_vu_t) -> Void) {
                            vus.initializeElement(at: count, to: rd_kafka_vu_t())
                            vus[count].vtype = type
                            fill(&vus[count])
                            count += 1
                        }
                        add(RD_KAFKA_VTYPE_TOPIC) { $0.u.cstr = topic }
                        add(RD_KAFKA_VTYPE_MSGFLAGS) { $0.u.i = RD_KAFKA_MSG_F_COPY }
                        add(RD_KAFKA_VTYPE_OPAQUE) { $0.u.ptr = opaque }
                        if let partition = message.partition {
                            add(RD_KAFKA_VTYPE_PARTITION) { $0.u.i32 = partition }
                        }
                        if let value {
                            add(RD_KAFKA_VTYPE_VALUE) {
                                $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
                                $0.u.mem.size = value.count
                            }
                        }
                        if let key {
                            add(RD_KAFKA_VTYPE_KEY) {
                                $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                                $0.u.mem.size = key.count
                            }
                        }
                        if let timestamp = message.timestampMilliseconds {
                            add(RD_KAFKA_VTYPE_TIMESTAMP) { $0.u.i64 = timestamp }
                        }
                        if let headers {
                            add(RD_KAFKA_VTYPE_HEADERS) { $0.u.headers = headers }
                        }
                        return withHandle { rd_kafka_produceva($0, vus.baseAddress, count) }
                    }
                }
            }
        }
        guard let error else { return nil }  // librdkafka now owns the headers
        if let headers { rd_kafka_headers_destroy(headers) }
        if rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__QUEUE_FULL {
            rd_kafka_error_destroy(error)
            return KafkaError(code: .queueFull, message: "Kafka producer queue is full", isRetryable: true)
        }
        return KafkaError(consuming: error, context: "cannot produce to \(message.topic)")
    }

    private static func makeHeaders(_ headers: [KafkaHeader]) -> OpaquePointer? {
        guard !headers.isEmpty else { return nil }
        let list = rd_kafka_headers_new(headers.count)!
        for header in headers {
            header.name.withCString { name in
                withOptionalBytes(header.value) { value in
                    _ = rd_kafka_header_add(list, name, -1, value?.baseAddress, value.map { $0.count } ?? -1)
                }
            }
        }
        return list
    }
}

/// Calls `body` with the bytes of `array`, or nil; an empty array still yields a non-nil (empty) buffer.
func withOptionalBytes<T>(_ array: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> T) -> T {
    guard let array else { return body(nil) }
    return array.withUnsafeBytes { buffer in
        if buffer.baseAddress == nil {
            return withUnsafeBytes(of: UInt8(0)) { body(UnsafeRawBufferPointer(rebasing: $0[0..<0])) }
        }
        return body(buffer)
    }
}
