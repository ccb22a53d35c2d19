import Foundation
import Kafka
import RateLimiting

/// Offsets: a record is finished when all its deliveries are; finished offsets are committed, and partitions
/// come and go with rebalances.
extension Worker {
    /// One delivery of `ticket`'s record has its outcome: when it was the last, the offset may be committed.
    func finish(_ ticket: RecordTicket) {
        guard ticket.done() else { return }
        state.withLock { state in
            guard state.generations[ticket.partition] == ticket.generation else { return }
            state.tracker.finish(ticket.partition, offset: ticket.offset)
        }
    }

    func commitLoop() async {
        var lastSweep = options.clock.now
        while !Task.isCancelled {
            try? await options.clock.sleep(for: options.commitInterval)
            await commitCompleted()
            if options.clock.now - lastSweep > .seconds(60) {
                // Conversations quiet for longer than Teams' longest window need no memory.
                lastSweep = options.clock.now
                governor.withLock { [now = options.clock.now] in _ = $0.forgetIdle(now: now) }
            }
        }
    }

    /// Commits every partition's watermark that moved.
    func commitCompleted(only partitions: Set<TopicPartition>? = nil) async {
        let offsets = state.withLock { state in
            state.tracker.committable.filter { partitions?.contains($0.topicPartition) ?? true }
        }
        guard !offsets.isEmpty else { return }
        do {
            try await consumer.commit(offsets)
            state.withLock { $0.tracker.committed(offsets) }
        } catch {
            logger.warning("offset commit failed; retried with the next one", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Rebalance

    func rebalanced(_ event: RebalanceEvent) async {
        switch event {
        case .assigned(let partitions):
            let share = state.withLock { state -> Double in
                state.joined = true
                for partition in partitions {
                    state.generations[partition] = state.nextGeneration
                    state.nextGeneration += 1
                }
                return Double(state.generations.count) / Double(state.totalPartitions)
            }
            shareChanged(share)
        case .revoked(let partitions):
            await release(partitions, commit: true)
        case .lost(let partitions):
            await release(partitions, commit: false)
        }
    }

    /// Revoked partitions: deliveries start nothing new, those under way get `revokeGrace` to finish, what is
    /// complete is committed, and the rest is left to the next owner (the ledger stops it sending twice).
    func release(_ partitions: [TopicPartition], commit: Bool) async {
        let set = Set(partitions)
        state.withLock { $0.revoking.formUnion(set) }
        // What is finished is committed before waiting too: should the wait end with the member out of the
        // group (a revoke during an outage), the next owner redoes only what was still in flight.
        if commit { await commitCompleted(only: set) }
        let deadline = options.clock.now + options.revokeGrace
        while options.clock.now < deadline,
            state.withLock({ state in set.contains { state.tracker.inFlight($0) > 0 } })
        {
            try? await options.clock.sleep(for: .milliseconds(20))
        }
        if commit { await commitCompleted(only: set) }
        let share = state.withLock { state -> Double in
            for partition in set { state.generations[partition] = nil }
            state.revoking.subtract(set)
            state.tracker.remove(set)
            return Double(state.generations.count) / Double(state.totalPartitions)
        }
        if share > 0 { shareChanged(share) }
    }

    /// This worker's share of the group's work changed: so do its shares of the Teams and Graph budgets.
    private func shareChanged(_ share: Double) {
        let now = options.clock.now
        governor.withLock { $0.setShare(min(1, max(share, 0.01)), now: now) }
        installer?.setShare(share)
        directory?.setShare(share)
    }

    /// Reports this member's lag per partition to the metrics every `lagInterval`.
    func lagLoop() async {
        while !Task.isCancelled, !state.withLock({ $0.draining }) {
            try? await options.clock.sleep(for: options.lagInterval)
            stats.metrics.lag(await consumer.lag())
        }
    }
}
