import Kafka
import Testing

@Suite("What may be committed while records finish out of order")
struct OffsetTrackerTests {
    let p0 = TopicPartition(topic: "events", partition: 0)
    let p1 = TopicPartition(topic: "events", partition: 1)

    private func start(_ tracker: inout OffsetTracker, _ partition: TopicPartition, offset: Int64) -> Bool {
        tracker.start(partition, offset: offset)
    }

    private func finish(_ tracker: inout OffsetTracker, _ partition: TopicPartition, offset: Int64) -> Bool {
        tracker.finish(partition, offset: offset)
    }

    private func commits(_ tracker: OffsetTracker) -> [TopicPartition: Int64] {
        Dictionary(uniqueKeysWithValues: tracker.committable.map { ($0.topicPartition, $0.offset) })
    }

    @Test func theWatermarkWaitsForTheLowestRecordStillInProgress() {
        var tracker = OffsetTracker()
        for offset in Int64(10)...14 { tracker.start(p0, offset: offset) }
        #expect(tracker.inFlight == 5)
        #expect(finish(&tracker, p0, offset: 12))
        #expect(finish(&tracker, p0, offset: 11))
        #expect(commits(tracker).isEmpty, "10 is still in progress: nothing may be committed")
        #expect(finish(&tracker, p0, offset: 10))
        #expect(commits(tracker) == [p0: 13], "10, 11 and 12 are done; 13 is next")
        #expect(finish(&tracker, p0, offset: 14))
        #expect(commits(tracker) == [p0: 13], "13 still holds the watermark")
        #expect(finish(&tracker, p0, offset: 13))
        #expect(commits(tracker) == [p0: 15])
        #expect(tracker.inFlight == 0)
    }

    @Test func gapsInOffsetsDoNotHoldTheWatermark() {
        var tracker = OffsetTracker()
        for offset: Int64 in [3, 7, 8, 20] { tracker.start(p0, offset: offset) }
        for offset: Int64 in [20, 8, 3, 7] { tracker.finish(p0, offset: offset) }
        #expect(commits(tracker) == [p0: 21])
    }

    @Test func partitionsAreIndependentAndCommittedOffsetsAreReportedOnce() {
        var tracker = OffsetTracker()
        tracker.start(p0, offset: 0)
        tracker.start(p1, offset: 0)
        tracker.start(p1, offset: 1)
        tracker.finish(p1, offset: 0)
        #expect(commits(tracker) == [p1: 1])
        tracker.committed([TopicPartitionOffset(topic: "events", partition: 1, offset: 1)])
        #expect(commits(tracker).isEmpty)
        tracker.finish(p0, offset: 0)
        tracker.finish(p1, offset: 1)
        #expect(commits(tracker) == [p0: 1, p1: 2])
        #expect(tracker.inFlight(p0) == 0 && tracker.inFlight(p1) == 0)
    }

    @Test func redeliveredUnknownAndRepeatedOffsetsAreIgnored() {
        var tracker = OffsetTracker()
        #expect(start(&tracker, p0, offset: 5))
        #expect(!start(&tracker, p0, offset: 5), "a re-delivered record is not tracked twice")
        #expect(!start(&tracker, p0, offset: 4))
        #expect(!finish(&tracker, p0, offset: 6), "never started")
        #expect(!finish(&tracker, p1, offset: 5), "unknown partition")
        #expect(finish(&tracker, p0, offset: 5))
        #expect(!finish(&tracker, p0, offset: 5), "finished twice")
        #expect(!start(&tracker, p0, offset: 5), "below the watermark")
        #expect(start(&tracker, p0, offset: 6))
        #expect(tracker.inFlight == 1)
    }

    @Test func aRevokedPartitionIsForgottenWithItsInFlightRecords() {
        var tracker = OffsetTracker()
        tracker.start(p0, offset: 0)
        tracker.start(p0, offset: 1)
        tracker.start(p1, offset: 0)
        tracker.finish(p0, offset: 0)
        tracker.remove([p0])
        #expect(tracker.inFlight == 1)
        #expect(commits(tracker).isEmpty)
        #expect(!finish(&tracker, p0, offset: 1), "a late finish for a revoked partition is ignored")
    }
}
