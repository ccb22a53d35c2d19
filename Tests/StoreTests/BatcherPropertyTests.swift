import Synchronization
import TestSupport
import Testing

@testable import Store

/// The batcher over many random workloads (seeded): callers submit at random moments, batches take random time
/// and some fail. Every caller gets its own item's answer (or its batch's failure), every item is flushed exactly
/// once, no batch is larger than allowed and no more batches run at once than allowed.
@Suite("Batcher properties")
struct BatcherPropertyTests {
    struct Failed: Error, Equatable { var batch: Int }

    /// What the flushes saw: the items of each batch, and how many ran at once at most.
    struct Record {
        var batches: [[Int]] = []
        var running = 0
        var mostAtOnce = 0
        var failed: Set<Int> = []
    }

    @Test(
        "each caller gets its own answer; each item is flushed once; size and concurrency bounds hold",
        arguments: 0..<40)
    func everyCallerGetsItsOwnAnswer(seed: UInt64) async {
        var random = SeededRandom(seed: seed &* 104_729)
        let maxBatchSize = Int.random(in: 1...16, using: &random)
        let maxConcurrent = Int.random(in: 1...4, using: &random)
        let callers = Int.random(in: 1...300, using: &random)
        let failEvery = Int.random(in: 0...7, using: &random)  // 0: no batch fails
        // Per caller: how many times it yields before submitting; per batch: how many times the flush yields.
        let delays = (0..<callers).map { _ in Int.random(in: 0...20, using: &random) }
        let flushDelays = (0..<callers).map { _ in Int.random(in: 0...10, using: &random) }
        let record = Mutex(Record())
        let batcher = Batcher<Int, Int>(maxBatchSize: maxBatchSize, maxConcurrentBatches: maxConcurrent) { items in
            let batch = record.withLock { record in
                record.batches.append(items)
                record.running += 1
                record.mostAtOnce = max(record.mostAtOnce, record.running)
                return record.batches.count - 1
            }
            for _ in 0..<flushDelays[batch % flushDelays.count] { await Task.yield() }
            let fails = failEvery > 0 && batch % failEvery == failEvery - 1
            record.withLock { record in
                record.running -= 1
                if fails { record.failed.insert(batch) }
            }
            if fails { throw Failed(batch: batch) }
            return items.map { $0 * 3 + 1 }
        }
        let answers = await withTaskGroup(of: (Int, Result<Int, Failed>).self) { group in
            for caller in 0..<callers {
                group.addTask {
                    for _ in 0..<delays[caller] { await Task.yield() }
                    do {
                        return (caller, .success(try await batcher.submit(caller)))
                    } catch {
                        return (caller, .failure(error as! Failed))
                    }
                }
            }
            var answers: [Int: Result<Int, Failed>] = [:]
            for await (caller, answer) in group { answers[caller] = answer }
            return answers
        }
        let seen = record.withLock { $0 }
        let flushed = seen.batches.flatMap { $0 }
        #expect(flushed.sorted() == Array(0..<callers), "seed \(seed): every item flushed exactly once")
        #expect(seen.batches.allSatisfy { !$0.isEmpty && $0.count <= maxBatchSize }, "seed \(seed): batch sizes")
        #expect(seen.mostAtOnce <= maxConcurrent, "seed \(seed): \(seen.mostAtOnce) batches at once")
        let batchOf = Dictionary(
            uniqueKeysWithValues: seen.batches.enumerated().flatMap { index, items in items.map { ($0, index) } })
        for caller in 0..<callers {
            let batch = batchOf[caller]!
            let expected: Result<Int, Failed> =
                seen.failed.contains(batch) ? .failure(Failed(batch: batch)) : .success(caller * 3 + 1)
            #expect(answers[caller] == expected, "seed \(seed): caller \(caller)")
        }
    }
}
