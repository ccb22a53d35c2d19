import DequeModule

/// Which offsets of each partition may be committed: per partition, everything before the lowest record that
/// is still in progress.
///
/// Records finish in any order (deliveries to different conversations run in parallel), but a commit says
/// "everything before this offset is done", so it may only move past a record once that record and every
/// earlier one are finished. Offsets may have gaps (compacted topics, transaction markers).
public struct OffsetTracker: Sendable {
    private struct Partition: Sendable {
        /// Records started and not yet passed by the watermark, in offset order.
        var pending: Deque<(offset: Int64, done: Bool)> = []
        /// The next offset to read once everything before it is done: what a commit would store.
        var watermark: Int64?
        /// The last watermark reported committed.
        var committed: Int64?

        var unfinished: Int { pending.reduce(0) { $0 + ($1.done ? 0 : 1) } }
    }

    private var partitions: [TopicPartition: Partition] = [:]
    /// Records started and not finished, over all partitions.
    public private(set) var inFlight = 0

    public init() {}

    /// Records that `offset` of `partition` is in progress. Offsets of one partition must be started in
    /// increasing order (the order a consumer reads them); an offset at or below one already started is
    /// ignored and returns false (a re-delivered record).
    @discardableResult
    public mutating func start(_ partition: TopicPartition, offset: Int64) -> Bool {
        var state = partitions[partition, default: Partition()]
        if let last = state.pending.last?.offset ?? state.watermark.map({ $0 - 1 }), offset <= last { return false }
        state.pending.append((offset, false))
        partitions[partition] = state
        inFlight += 1
        return true
    }

    /// Records that `offset` of `partition` is finished (its outcome published). Returns false for an offset
    /// that is not in progress (never started, already finished, or its partition was revoked).
    @discardableResult
    public mutating func finish(_ partition: TopicPartition, offset: Int64) -> Bool {
        guard var state = partitions[partition], let first = state.pending.first?.offset, offset >= first else {
            return false
        }
        // Offsets are increasing: find the entry by binary search.
        var low = 0
        var high = state.pending.count
        while low < high {
            let middle = (low + high) / 2
            if state.pending[middle].offset < offset { low = middle + 1 } else { high = middle }
        }
        guard low < state.pending.count, state.pending[low].offset == offset, !state.pending[low].done else {
            return false
        }
        state.pending[low].done = true
        inFlight -= 1
        while let head = state.pending.first, head.done {
            state.pending.removeFirst()
            state.watermark = head.offset + 1
        }
        partitions[partition] = state
        return true
    }

    /// Per partition, the offset to commit when it moved past the last committed one.
    public var committable: [TopicPartitionOffset] {
        partitions.compactMap { partition, state in
            guard let watermark = state.watermark, watermark != state.committed else { return nil }
            return TopicPartitionOffset(topic: partition.topic, partition: partition.partition, offset: watermark)
        }
    }

    /// Records that `offsets` were committed, so ``committable`` stops reporting them.
    public mutating func committed(_ offsets: [TopicPartitionOffset]) {
        for entry in offsets {
            guard var state = partitions[entry.topicPartition] else { continue }
            state.committed = max(state.committed ?? entry.offset, entry.offset)
            partitions[entry.topicPartition] = state
        }
    }

    /// Records of `partition` still in progress.
    public func inFlight(_ partition: TopicPartition) -> Int {
        partitions[partition]?.unfinished ?? 0
    }

    /// Forgets `revoked` partitions (after their last commit); late finishes for them are ignored.
    public mutating func remove(_ revoked: some Sequence<TopicPartition>) {
        for partition in revoked {
            if let state = partitions.removeValue(forKey: partition) {
                inFlight -= state.unfinished
            }
        }
    }
}
