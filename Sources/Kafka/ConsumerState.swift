import Synchronization

/// What a consumer knows about its own membership, shared by the polling thread and callers.
final class ConsumerState: Sendable {
    private struct Inner {
        var assignment: Set<TopicPartition> = []
        var paused: Set<TopicPartition> = []
        /// Offsets this member committed successfully (the next offset to read).
        var committed: [TopicPartition: Int64] = [:]
        /// `close()` began: no more polls, but the revoke handler it triggers may still commit.
        var closing = false
        var closed = false
    }
    private let inner = Mutex(Inner())

    var isClosing: Bool { inner.withLock { $0.closing || $0.closed } }
    var isClosed: Bool { inner.withLock { $0.closed } }

    /// Returns true the first time only.
    func beginClosing() -> Bool {
        inner.withLock { inner in
            defer { inner.closing = true }
            return !inner.closing
        }
    }

    func finishClosing() {
        inner.withLock { $0.closed = true }
    }

    var assignment: Set<TopicPartition> { inner.withLock { $0.assignment } }
    var paused: Set<TopicPartition> { inner.withLock { $0.paused } }

    func assigned(_ partitions: [TopicPartition]) {
        inner.withLock { inner in
            inner.assignment.formUnion(partitions)
            for partition in partitions {
                // Another member may have committed since this member last owned the partition.
                inner.committed[partition] = nil
                inner.paused.remove(partition)
            }
        }
    }

    func unassigned(_ partitions: [TopicPartition]) {
        inner.withLock { inner in
            inner.assignment.subtract(partitions)
            inner.paused.subtract(partitions)
            for partition in partitions { inner.committed[partition] = nil }
        }
    }

    func unassignAll() {
        inner.withLock { inner in
            inner.assignment = []
            inner.paused = []
            inner.committed = [:]
        }
    }

    func paused(_ partitions: some Sequence<TopicPartition>) {
        inner.withLock { $0.paused.formUnion(partitions) }
    }

    func resumed(_ partitions: some Sequence<TopicPartition>) {
        inner.withLock { $0.paused.subtract(partitions) }
    }

    func committed(_ offsets: [TopicPartitionOffset]) {
        inner.withLock { inner in
            for entry in offsets where inner.assignment.contains(entry.topicPartition) {
                inner.committed[entry.topicPartition] = entry.offset
            }
        }
    }

    func committedOffset(_ partition: TopicPartition) -> Int64? {
        inner.withLock { $0.committed[partition] }
    }
}
