/// A change of this member's partition assignment, surfaced before librdkafka applies it.
public enum RebalanceEvent: Sendable, Equatable {
    /// Partitions newly assigned; fetching from their committed offsets starts after the handler returns.
    case assigned([TopicPartition])
    /// Partitions about to be taken away: finish or abandon in-flight work and commit before returning.
    /// The partitions stay assigned (and commits for them succeed) until the handler returns.
    case revoked([TopicPartition])
    /// Partitions already lost (e.g. the session timed out): another member may own them, commits fail.
    case lost([TopicPartition])

    public var partitions: [TopicPartition] {
        switch self {
        case .assigned(let partitions), .revoked(let partitions), .lost(let partitions): partitions
        }
    }
}

/// Called on the consumer's polling thread, inside a poll; the poll (and the rebalance) waits for it.
/// Keep it bounded: a member that does not poll within `max.poll.interval.ms` is removed from the group.
public typealias RebalanceHandler = @Sendable (RebalanceEvent) async -> Void

/// How far a partition's consumer is behind.
public struct PartitionLag: Sendable, Hashable {
    public var topicPartition: TopicPartition
    /// The group's committed offset (the next offset to read), nil when none is committed yet.
    public var committedOffset: Int64?
    /// The partition's high watermark as last seen by a fetch, nil before the first fetch.
    public var highWatermark: Int64?
    /// Records not yet committed by the group, nil when the high watermark is unknown.
    public var lag: Int64?
}
