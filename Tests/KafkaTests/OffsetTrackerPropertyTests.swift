import Kafka
import TestSupport
import Testing

/// Properties of the offset tracker over many random runs (seeded, so a failure names a case that reproduces):
/// whatever order records finish in, a commit never passes a record still in progress, and once every record is
/// done the commit reaches the last one.
@Suite("Offset tracker properties")
struct OffsetTrackerPropertyTests {
    @Test(
        "a commit never passes an unfinished record, for random offsets, gaps and completion orders", arguments: 0..<300
    )
    func commitsNeverPassAnUnfinishedRecord(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let partitions = (0..<Int.random(in: 1...3, using: &random)).map {
            TopicPartition(topic: "events", partition: Int32($0))
        }
        // Each partition's offsets, increasing, with gaps (compaction, transaction markers).
        var offsets: [TopicPartition: [Int64]] = [:]
        for partition in partitions {
            var next = Int64.random(in: 0...1000, using: &random)
            offsets[partition] = (0..<Int.random(in: 1...40, using: &random)).map { _ in
                defer { next += Int64.random(in: 1...4, using: &random) }
                return next
            }
        }
        var tracker = OffsetTracker()
        var started: [(TopicPartition, Int64)] = []
        var cursor = Dictionary(uniqueKeysWithValues: partitions.map { ($0, 0) })
        // Reads interleave partitions, in each one's order.
        while let partition = partitions.filter({ cursor[$0]! < offsets[$0]!.count }).randomElement(using: &random) {
            let offset = offsets[partition]![cursor[partition]!]
            cursor[partition]! += 1
            let fresh = tracker.start(partition, offset: offset)
            #expect(fresh)
            started.append((partition, offset))
        }
        let again = tracker.start(partitions[0], offset: offsets[partitions[0]]!.last!)
        #expect(!again, "a re-delivered record is ignored")
        var unfinished = Set(started.map { "\($0.0.partition)/\($0.1)" })
        var committed: [TopicPartition: Int64] = [:]
        for (partition, offset) in started.shuffled(using: &random) {
            let finished = tracker.finish(partition, offset: offset)
            let twice = tracker.finish(partition, offset: offset)
            #expect(finished && !twice, "finished once; a second finish is refused")
            unfinished.remove("\(partition.partition)/\(offset)")
            for commit in tracker.committable {
                let lowestUnfinished = offsets[commit.topicPartition]!.first {
                    unfinished.contains("\(commit.topicPartition.partition)/\($0)")
                }
                if let lowestUnfinished {
                    #expect(commit.offset <= lowestUnfinished, "seed \(seed): \(commit) passes \(lowestUnfinished)")
                }
                #expect(commit.offset > committed[commit.topicPartition, default: -1], "commits only move forward")
            }
            if Bool.random(using: &random) {
                let commits = tracker.committable
                tracker.committed(commits)
                for commit in commits { committed[commit.topicPartition] = commit.offset }
                #expect(tracker.committable.isEmpty, "what was committed is not reported again")
            }
        }
        for commit in tracker.committable { committed[commit.topicPartition] = commit.offset }
        for partition in partitions {
            #expect(committed[partition] == offsets[partition]!.last! + 1, "seed \(seed): everything done is committed")
        }
        #expect(tracker.inFlight == 0)
    }
}
