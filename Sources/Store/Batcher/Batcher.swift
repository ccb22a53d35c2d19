import Synchronization

/// Coalesces concurrent single-item calls into batches: the first callers (up to `maxConcurrentBatches`) become
/// leaders and flush everything queued meanwhile as one batch; the others wait for their result. A leader stops
/// once its own item is done and hands leadership to the oldest queued caller, so nobody flushes forever and no
/// task is spawned. With 1,000 deliveries in flight this turns 1,000 round trips into a handful.
///
/// Inlinable, so the engine's batchers are specialized for their item and output types where they are used:
/// unspecialized, every submit looked up generic metadata and copied values through witness tables.
package final class Batcher<Item: Sendable, Output: Sendable>: Sendable {
    /// Flushes one batch: returns one output per item, in order.
    package typealias Flush = @Sendable ([Item]) async throws -> [Output]

    @usableFromInline let state: Mutex<BatcherState<Item, Output>>
    @usableFromInline let flush: Flush
    @usableFromInline let maxBatchSize: Int

    @inlinable
    package init(maxBatchSize: Int, maxConcurrentBatches: Int, flush: @escaping Flush) {
        self.state = Mutex(BatcherState(maxLeaders: maxConcurrentBatches))
        self.flush = flush
        self.maxBatchSize = max(1, maxBatchSize)
    }

    @inlinable
    package func submit(_ item: Item) async throws -> Output {
        let (ticket, leads) = state.withLock { $0.enqueue(item) }
        var leading = leads
        while true {
            if leading { await lead(until: ticket) }
            let signal = await withCheckedContinuation {
                (continuation: CheckedContinuation<BatcherState<Item, Output>.Signal, Never>) in
                if let signal = state.withLock({ $0.attach(ticket, continuation) }) {
                    continuation.resume(returning: signal)
                }
            }
            switch signal {
            case .done(let result): return try result.get()
            case .lead: leading = true
            }
        }
    }

    /// Flushes batches until the one holding `ticket` is done (or nothing is queued), then passes leadership on.
    @inlinable
    func lead(until ticket: BatcherState<Item, Output>.Ticket) async {
        while true {
            let batch = state.withLock { $0.nextBatch(max: maxBatchSize) }
            if batch.isEmpty { break }
            let result: Result<[Output], any Error>
            do {
                let outputs = try await flush(batch.map(\.1))
                result =
                    outputs.count == batch.count
                    ? .success(outputs)
                    : .failure(StoreError(.query, "a batch returned \(outputs.count) results for \(batch.count) items"))
            } catch {
                result = .failure(error)
            }
            for (index, (waiter, _)) in batch.enumerated() {
                let signal: BatcherState<Item, Output>.Signal = .done(result.map { $0[index] })
                state.withLock { $0.deliver(signal, to: waiter) }?.resume(returning: signal)
            }
            if batch.contains(where: { $0.0 == ticket }) { break }
        }
        if let next = state.withLock({ $0.stopLeading() }) {
            state.withLock { $0.deliver(.lead, to: next) }?.resume(returning: .lead)
        }
    }
}
