import CRdKafka
import Synchronization

/// Where the delivery reports of one ``KafkaProducer/enqueue(_:)`` call go: one object and one slot array
/// for the whole batch, instead of a completion object and a closure per record.
///
/// Record `i` carries `slots + i`, tagged in its lowest bit, as its librdkafka opaque; the slot holds the batch,
/// and its distance from `slots` is the record's index. The batch keeps itself alive (one retain) until every
/// record has its result.
final class BatchDeliveries: @unchecked Sendable {
    let completion: BatchCompletion<Result<DeliveryReport, KafkaError>>
    private let topics: [String]
    private let slots: UnsafeMutablePointer<Unmanaged<BatchDeliveries>>
    private let outstanding: Atomic<Int>

    init(topics: [String]) {
        self.topics = topics
        self.completion = BatchCompletion(count: topics.count)
        self.outstanding = Atomic(topics.count)
        self.slots = .allocate(capacity: max(topics.count, 1))
        guard !topics.isEmpty else { return }
        let retained = Unmanaged.passRetained(self)  // released by the last result
        slots.initialize(repeating: retained, count: topics.count)
    }

    deinit {
        slots.deallocate()
    }

    /// The opaque for record `index`.
    func opaque(_ index: Int) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(slots + index) + Self.tag
    }

    /// Whether a librdkafka opaque is a batch slot (rather than a ``DeliveryCompletion``).
    static func isSlot(_ opaque: UnsafeMutableRawPointer) -> Bool {
        Int(bitPattern: opaque) & tag != 0
    }

    /// Record `index` was refused before librdkafka took it.
    func refused(_ index: Int, _ error: KafkaError) {
        finish(index, .failure(error))
    }

    /// Called from librdkafka's delivery-report callback on the producer's polling thread.
    static func complete(opaque: UnsafeMutableRawPointer, message: UnsafePointer<rd_kafka_message_t>) {
        let slot = (opaque - tag).assumingMemoryBound(to: Unmanaged<BatchDeliveries>.self)
        let batch = slot.pointee.takeUnretainedValue()
        let index = slot - batch.slots
        batch.finish(index, DeliveryReport.result(of: message, topic: batch.topics[index]))
    }

    private func finish(_ index: Int, _ result: Result<DeliveryReport, KafkaError>) {
        completion.complete(index, result)
        if outstanding.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
            slots.pointee.release()
        }
    }

    /// Slots are 8-byte aligned, Swift objects 16-byte aligned: the lowest bit tells them apart.
    private static let tag = 1
}
