import BotConnector
import DequeModule
import Foundation
import HeraldConfig
import Kafka
import Logging
import RateLimiting
import Routing
import Store
import Synchronization

/// The delivery engine: one member of the consumer group, turning event records into Teams messages and
/// outcome records.
///
/// Records are read in batches, decoded and routed; each planned delivery goes into a per-recipient lane
/// (``Lanes``: one recipient's deliveries in event order, recipients in parallel). A delivery is claimed in the
/// ledger, checked against opt-outs and blocks, resolved to a conversation (created when needed), deferred when
/// due later, rate limited (``RateGovernor``), sent with retries, recorded, and its outcome published. A record's
/// offset is committed once every delivery planned from it has a published outcome.
///
/// Call ``run()`` and cancel its task, or call ``drain()``, to stop: the worker stops reading, finishes or
/// parks what is in flight within `shutdownGracePeriod`, commits, and leaves the group.
public final class Worker: Sendable {
    struct State: Sendable {
        var tracker = OffsetTracker()
        /// Owned partitions and their assignment generation.
        var generations: [TopicPartition: UInt64] = [:]
        /// Partitions being revoked: their deliveries start nothing new.
        var revoking: Set<TopicPartition> = []
        var nextGeneration: UInt64 = 1
        /// Partitions of the subscribed topics, for this worker's share of the tenant budget.
        var totalPartitions = 1
        /// Stop reading records.
        var draining = false
        /// Stop starting anything: in-flight deliveries park (their claims are released, offsets not committed).
        var parking = false
        /// Due deferred deliveries waiting for the poll loop to put them in lanes.
        var incoming: [WorkItem] = []
        /// The group gave this member its first assignment (possibly empty).
        var joined = false
    }

    /// Whether a delivery may go on.
    enum Liveness {
        /// Go on.
        case live
        /// Finish a step already under way (publish its outcome) but start no new wait or request.
        case winding
        /// Its partition is no longer ours: publish nothing (the new owner will).
        case stale
    }

    public let options: WorkerOptions
    public let stats = EngineStats()
    let router: Router
    let decoder: EventDecoder
    let client: BotConnectorClient
    let store: any HeraldStore
    let ledger: DeliveryLedger
    let lookups: DeliveryLookups
    let consumer: KafkaConsumer
    let producer: KafkaProducer
    let logger: Logger
    let backoff: Backoff
    let state = Mutex(State())
    let governor: Mutex<RateGovernor>
    let lanes: Lanes<String, WorkItem>
    /// Installs the app through Graph for users who never installed it (`bot.proactiveInstall`).
    let installer: AppInstaller?
    /// Routes that override `delivery.onUncertain`.
    let uncertainPolicies: [String: UncertainDeliveryPolicy]
    private let reference: WorkerReference

    /// - Parameters:
    ///   - cluster: brokers and librdkafka properties shared by the consumer and the producer.
    ///   - router: the compiled routes.
    ///   - client: the Teams client (its allow-list guards the token).
    ///   - store: a running, migrated store.
    ///   - graph: for proactive installation (with ``WorkerOptions/teamsAppId``); nil: users who never
    ///     installed the app cannot be reached.
    public init(
        options: WorkerOptions, cluster: KafkaClusterConfiguration, router: Router, decoder: EventDecoder,
        client: BotConnectorClient, store: any HeraldStore, graph: GraphClient? = nil, logger: Logger
    ) throws {
        if let graph, let teamsAppId = options.teamsAppId {
            self.installer = AppInstaller(
                graph: graph, teamsAppId: teamsAppId, perTenantPerSecond: options.installsPerTenantPerSecond,
                logger: logger.component("graph"))
        } else {
            self.installer = nil
        }
        self.options = options
        self.uncertainPolicies = router.routes.reduce(into: [:]) { policies, route in
            if let policy = route.onUncertain { policies[route.name] = policy }
        }
        self.router = router
        self.decoder = decoder
        self.client = client
        self.store = store
        self.logger = logger.component("engine")
        self.ledger = DeliveryLedger(store: store, worker: options.worker, lease: options.claimLease)
        self.lookups = DeliveryLookups(store: store)
        self.backoff = Backoff(base: options.retryBase, cap: max(options.retryBase, options.maxRetryDelay))
        let stretch = 1 / max(0.1, min(options.conversationHeadroom, 1))
        self.governor = Mutex(
            RateGovernor(
                conversationWindows: options.conversationWindows.map {
                    SlidingWindowLimiter.Window(count: $0.count, length: $0.length * stretch + .milliseconds(50))
                },
                tenantBudget: options.perTenantPerSecond, jitterBounds: options.jitterBounds))
        self.producer = try KafkaProducer(configuration: .init(cluster: cluster), logger: logger.component("kafka"))
        let reference = WorkerReference()
        self.reference = reference
        // The limit is enforced by pausing partitions (below), never by blocking the poll loop: a member that
        // stops polling is thrown out of the group.
        self.lanes = Lanes(limit: Int.max) { item in await reference.worker?.process(item) }
        let events = KafkaConsumerConfiguration(
            cluster: cluster, groupId: options.groupId, topics: options.eventsTopics,
            maxBatchSize: options.pollBatchSize, pollTimeout: .milliseconds(100))
        self.consumer = try KafkaConsumer(configuration: events, logger: logger.component("kafka")) { event in
            await reference.worker?.rebalanced(event)
        }
        reference.set(self)
    }

    /// Asks a running worker to stop: it drains as ``run()`` describes, and ``run()`` returns.
    public func drain() {
        state.withLock { $0.draining = true }
    }

    /// Whether the consumer group has given this member an assignment (possibly empty: more members than
    /// partitions).
    public var hasJoinedGroup: Bool { state.withLock { $0.joined } }

    /// Whether the worker is draining (it reads no more records).
    public var isDraining: Bool { state.withLock { $0.draining } }

    /// Runs until ``drain()`` is called or the task is cancelled, then drains and returns. Throws when the
    /// worker cannot start (topics missing or forbidden, brokers unreachable) or Kafka fails fatally.
    public func run() async throws {
        let topics = try await producer.prepare(
            topics: options.eventsTopics + [options.outcomesTopic, options.deadLetterTopic])
        let total = options.eventsTopics.reduce(0) { $0 + (topics[$1] ?? 1) }
        state.withLock { $0.totalPartitions = max(1, total) }
        try consumer.subscribe()
        logger.info("worker started", metadata: ["worker": "\(options.worker)", "group": "\(options.groupId)"])
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.commitLoop() }
                group.addTask { await self.deferredLoop() }
                group.addTask { await self.lagLoop() }
                await self.pollLoop(&group)
                await self.finishDraining()
                group.cancelAll()
            }
        } onCancel: {
            self.drain()
        }
        // Bounded: with Kafka unreachable, librdkafka's commit and group leave can block for minutes. What is
        // not committed is read again by the group, and the ledger keeps that from sending twice.
        let closed = await finishes(within: options.closeTimeout) {
            await self.commitCompleted()
            await self.consumer.close()
            try? await self.producer.flush(timeout: .seconds(5))
            try? await self.producer.shutdown()
        }
        if closed {
            logger.info("worker stopped", metadata: ["worker": "\(options.worker)"])
        } else {
            logger.warning(
                "worker stopped without closing Kafka cleanly: records not committed are read again by the group",
                metadata: ["worker": "\(options.worker)", "closeTimeout": "\(options.closeTimeout)"])
        }
    }

    // MARK: Reading

    /// A record read ahead of admission, with its partition's assignment generation when it was read.
    private struct ReadAhead {
        var message: KafkaMessage
        var generation: UInt64
    }

    /// Reads records ahead into a bounded queue and admits them while fewer than `maxInFlight` deliveries are
    /// in flight. The partitions are paused only when the queue is full and resumed once it is half empty, so
    /// the queue keeps the lanes busy while librdkafka restarts fetching after a resume (up to a second).
    private func pollLoop(_ group: inout DiscardingTaskGroup) async {
        var paused = false
        var queue = Deque<ReadAhead>()
        var queuedBytes = 0
        while !state.withLock({ $0.draining }) {
            for item in state.withLock({ state in
                defer { state.incoming = [] }; return state.incoming
            }) {
                stats.admitted(1)
                await lanes.admit(item, key: item.laneKey, in: &group)
            }
            let now = Date()
            while lanes.admitted < options.maxInFlight, let next = queue.popFirst() {
                queuedBytes -= next.message.value.count
                await handle(next.message, generation: next.generation, now: now, group: &group)
            }
            let full = queue.count >= options.readAhead || queuedBytes >= options.readAheadBytes
            if !paused, full {
                paused = true
                setPaused(true)
            } else if paused, queue.count <= options.readAhead / 2, queuedBytes <= options.readAheadBytes / 2 {
                paused = false
                setPaused(false)
            } else if paused, !consumer.assignment.isSubset(of: consumer.pausedPartitions) {
                setPaused(true)  // a rebalance assigned partitions, which start unpaused
            }
            let batch: [KafkaMessage]
            do {
                // With records waiting for room, come back soon to admit them.
                batch = try await consumer.poll(timeout: queue.isEmpty ? nil : .milliseconds(5))
            } catch {
                logger.error("Kafka consumer failed; stopping", metadata: ["error": "\(error)"])
                drain()
                break
            }
            guard !batch.isEmpty else { continue }
            stats.consumed(batch)
            let generations = state.withLock { $0.generations }
            for message in batch {
                // A record of a partition no longer ours is left to its new owner.
                guard let generation = generations[message.topicPartition] else { continue }
                queue.append(ReadAhead(message: message, generation: generation))
                queuedBytes += message.value.count
            }
        }
    }

    private func setPaused(_ paused: Bool) {
        let partitions = consumer.assignment
        do {
            if paused { try consumer.pause(partitions) } else { try consumer.resume(partitions) }
            logger.debug(paused ? "read-ahead queue full: partitions paused" : "partitions resumed")
        } catch {
            logger.warning("cannot \(paused ? "pause" : "resume") partitions", metadata: ["error": "\(error)"])
        }
    }

    private func handle(
        _ message: KafkaMessage, generation: UInt64, now: Date, group: inout DiscardingTaskGroup
    ) async {
        let partition = message.topicPartition
        // Read before a rebalance that took the partition away (even if it came back since): not ours.
        let current = state.withLock { state -> Bool in
            guard state.generations[partition] == generation, !state.revoking.contains(partition) else {
                return false
            }
            return state.tracker.start(partition, offset: message.offset)
        }
        guard current else { return }
        let record = InboundRecord(
            topic: message.topic, partition: message.partition, offset: message.offset, key: message.key,
            value: message.value, headers: message.headers.map { ($0.name, $0.value ?? []) },
            timestamp: message.timestampMilliseconds.map { Date(timeIntervalSince1970: Double($0) / 1000) })
        let event: NotificationEvent
        do throws(EventDecodingError) {
            event = try decoder.decode(record)
        } catch {
            let ticket = RecordTicket(
                partition: partition, offset: message.offset, generation: generation, deliveries: 1)
            group.addTask { await self.deadLetter(record, error: error, ticket: ticket) }
            return
        }
        let routing = router.route(event, now: now)
        let count = routing.isUnroutable ? 1 : routing.deliveries.count + routing.rejections.count
        let ticket = RecordTicket(
            partition: partition, offset: message.offset, generation: generation, deliveries: count)
        if routing.isUnroutable {
            let outcome = DeliveryOutcome.unroutable(event: event, completedAt: now, worker: options.worker)
            group.addTask { await self.publishWithoutDelivery(outcome, traceparent: event.traceparent, ticket: ticket) }
            return
        }
        for rejection in routing.rejections {
            let outcome = DeliveryOutcome.rejected(rejection, event: event, completedAt: now, worker: options.worker)
            group.addTask { await self.publishWithoutDelivery(outcome, traceparent: event.traceparent, ticket: ticket) }
        }
        for delivery in routing.deliveries {
            let item = WorkItem(delivery: delivery, event: event, origin: .record(ticket), now: now)
            stats.admitted(1)
            await lanes.admit(item, key: item.laneKey, in: &group)
        }
    }

    /// An undecodable record: unchanged to the dead-letter topic, then a `rejected` outcome.
    private func deadLetter(_ record: InboundRecord, error: EventDecodingError, ticket: RecordTicket) async {
        let outcome = DeliveryOutcome.rejected(
            record: record, error: error, completedAt: Date(), worker: options.worker)
        guard await needsPublishing(outcome, ticket: ticket) else { return }
        logger.notice(
            "record cannot be decoded; sent to the dead-letter topic",
            metadata: ["input": "\(record.coordinates)", "code": "\(error.code)"])
        let letter = ProducerMessage(
            topic: options.deadLetterTopic, key: record.key, value: record.value,
            headers: error.deadLetterHeaders(for: record).map { KafkaHeader(name: $0.name, value: $0.value) })
        guard await produceDeadLetter(letter, ticket: ticket) else { return }
        await publishWithoutDelivery(outcome, traceparent: nil, ticket: ticket, checked: true)
    }

    /// Produces `letter` on the dead-letter topic (see ``produceUntilDone(_:ticket:fallback:)``) and counts it. A
    /// letter Kafka will not take (too large for the topic) goes without its value, its size in a header.
    func produceDeadLetter(_ letter: ProducerMessage, ticket: RecordTicket?) async -> Bool {
        var stripped = letter
        stripped.value = nil
        stripped.headers.append(KafkaHeader(name: "herald-value-dropped", string: "\(letter.value?.count ?? 0) bytes"))
        guard await produceUntilDone(letter, ticket: ticket, fallback: stripped) else { return false }
        stats.deadLettered()
        return true
    }

    /// Publishes an outcome that involved no delivery (unroutable, rejected) once per record, then counts the
    /// record down: the ledger notes it, so the record read again (a crash, a rebalance) publishes nothing.
    /// `checked`: ``needsPublishing(_:ticket:)`` was asked already.
    private func publishWithoutDelivery(
        _ outcome: DeliveryOutcome, traceparent: String?, ticket: RecordTicket, checked: Bool = false
    ) async {
        if !checked {
            guard await needsPublishing(outcome, ticket: ticket) else { return }
        }
        guard await publish(outcome, traceparent: traceparent, ticket: ticket) else { return }
        let metadata = deliveryLogMetadata(deliveryId: outcome.deliveryId, eventId: outcome.eventId, traceparent: nil)
        let (id, input) = (outcome.deliveryId, outcome.input.coordinates)
        guard
            await untilStored(
                ticket, metadata: metadata, { try await self.ledger.markOutcomePublished(id, input: input) })
                != nil
        else { return }
        finish(ticket)
    }

    /// False when `outcome` was published for this same record before (the record is read again: it counts as
    /// replayed and the record is done), or when the record's partition went away while the store did not answer.
    private func needsPublishing(_ outcome: DeliveryOutcome, ticket: RecordTicket) async -> Bool {
        let metadata = deliveryLogMetadata(deliveryId: outcome.deliveryId, eventId: outcome.eventId, traceparent: nil)
        let id = outcome.deliveryId
        guard let claim = await untilStored(ticket, metadata: metadata, { try await self.ledger.claim(id) }) else {
            return false
        }
        guard case .outcomePublished(let entry) = claim, entry.input == outcome.input.coordinates else { return true }
        stats.replayed()
        finish(ticket)
        return false
    }

    // MARK: Outcomes and offsets

    /// Publishes `outcome` on the outcomes topic, retrying until Kafka takes it or the record's partition is
    /// no longer ours. Returns whether it was published.
    func publish(_ outcome: DeliveryOutcome, traceparent: String?, ticket: RecordTicket?) async -> Bool {
        let value: [UInt8]
        do {
            value = try outcome.jsonBytes()
        } catch {
            logger.error(
                "cannot encode an outcome",
                metadata: deliveryLogMetadata(
                    deliveryId: outcome.deliveryId, eventId: outcome.eventId, traceparent: traceparent))
            return false
        }
        let message = ProducerMessage(
            topic: options.outcomesTopic, key: Array(outcome.eventId.utf8), value: value,
            headers: traceparent.map { [KafkaHeader(name: "traceparent", string: $0)] } ?? [])
        guard await produceUntilDone(message, ticket: ticket) else { return false }
        stats.published(outcome)
        logger.debug(
            "outcome published",
            metadata: deliveryLogMetadata(
                deliveryId: outcome.deliveryId, eventId: outcome.eventId, traceparent: traceparent
            ).merging(
                ["status": .string(outcome.status.rawValue), "code": .string(outcome.error?.code ?? "none")],
                uniquingKeysWith: { $1 }))
        return true
    }

    /// Produces `message`, retrying while the record's partition is ours; after an error retrying cannot fix,
    /// `fallback` is produced instead (when given).
    private func produceUntilDone(
        _ message: ProducerMessage, ticket: RecordTicket?, fallback: ProducerMessage? = nil
    ) async -> Bool {
        var attempt = 0
        var message = message
        while true {
            do {
                _ = try await producer.send(message)
                return true
            } catch {
                attempt += 1
                if !error.isRetryable, let fallback {
                    logger.error(
                        "Kafka refused a record; producing it without its value", metadata: ["error": "\(error)"])
                    message = fallback
                }
                logger.error(
                    "cannot publish to \(message.topic); retrying",
                    metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                if let ticket, isStale(ticket) { return false }
                // Past the grace period of a drain: give up; the record stays uncommitted and is read again.
                if state.withLock({ $0.parking }) { return false }
                try? await Task.sleep(for: backoff.delay(attempt: min(attempt, 4)))
            }
        }
    }

    /// One delivery of `ticket`'s record has its outcome: when it was the last, the offset may be committed.
    func finish(_ ticket: RecordTicket) {
        guard ticket.done() else { return }
        state.withLock { state in
            guard state.generations[ticket.partition] == ticket.generation else { return }
            state.tracker.finish(ticket.partition, offset: ticket.offset)
        }
    }

    func isStale(_ ticket: RecordTicket) -> Bool {
        state.withLock { $0.generations[ticket.partition] != ticket.generation }
    }

    func liveness(_ item: WorkItem) -> Liveness {
        state.withLock { state in
            if let ticket = item.recordTicket {
                if state.generations[ticket.partition] != ticket.generation { return .stale }
                if state.revoking.contains(ticket.partition) { return .winding }
            }
            return state.parking ? .winding : .live
        }
    }

    private func commitLoop() async {
        var lastSweep = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: options.commitInterval)
            await commitCompleted()
            if ContinuousClock.now - lastSweep > .seconds(60) {
                // Conversations quiet for longer than Teams' longest window need no memory.
                lastSweep = .now
                governor.withLock { _ = $0.forgetIdle(now: .now) }
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
            governor.withLock { $0.setShare(min(1, max(share, 0.01)), now: .now) }
        case .revoked(let partitions):
            await release(partitions, commit: true)
        case .lost(let partitions):
            await release(partitions, commit: false)
        }
    }

    /// Revoked partitions: deliveries start nothing new, those under way get `revokeGrace` to finish, what is
    /// complete is committed, and the rest is left to the next owner (the ledger stops it sending twice).
    private func release(_ partitions: [TopicPartition], commit: Bool) async {
        let set = Set(partitions)
        state.withLock { $0.revoking.formUnion(set) }
        // What is finished is committed before waiting too: should the wait end with the member out of the
        // group (a revoke during an outage), the next owner redoes only what was still in flight.
        if commit { await commitCompleted(only: set) }
        let deadline = ContinuousClock.now + options.revokeGrace
        while ContinuousClock.now < deadline,
            state.withLock({ state in set.contains { state.tracker.inFlight($0) > 0 } })
        {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if commit { await commitCompleted(only: set) }
        let share = state.withLock { state -> Double in
            for partition in set { state.generations[partition] = nil }
            state.revoking.subtract(set)
            state.tracker.remove(set)
            return Double(state.generations.count) / Double(state.totalPartitions)
        }
        if share > 0 { governor.withLock { $0.setShare(min(1, share), now: .now) } }
    }

    /// Reports this member's lag per partition to the metrics every `lagInterval`.
    private func lagLoop() async {
        while !Task.isCancelled, !state.withLock({ $0.draining }) {
            try? await Task.sleep(for: options.lagInterval)
            stats.metrics.lag(await consumer.lag())
        }
    }

    // MARK: Draining

    private func finishDraining() async {
        state.withLock { $0.draining = true }
        logger.info("draining", metadata: ["inFlight": "\(lanes.admitted)"])
        let idle = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.lanes.waitUntilIdle()
                return true
            }
            group.addTask {
                try? await Task.sleep(for: self.options.shutdownGracePeriod)
                return false
            }
            let first = await group.next()!
            group.cancelAll()
            return first
        }
        if !idle {
            logger.warning(
                "grace period over: parking in-flight deliveries", metadata: ["inFlight": "\(lanes.admitted)"])
            state.withLock { $0.parking = true }
            // Parked deliveries stop at their next step; one waiting on a store that does not answer is left.
            if !(await finishes(within: options.closeTimeout, { await self.lanes.waitUntilIdle() })) {
                logger.warning(
                    "deliveries still waiting for the store are left to the group",
                    metadata: ["inFlight": "\(lanes.admitted)"])
            }
        }
    }
}

/// A weak reference to the worker for the closures it hands its parts before it exists (its lanes' work, its
/// rebalance handler); set once at the end of `init`, before anything can call them.
private final class WorkerReference: Sendable {
    private struct Weak {
        weak var worker: Worker?
    }

    private let reference = Mutex(Weak())

    var worker: Worker? { reference.withLock { $0.worker } }

    func set(_ worker: Worker) { reference.withLock { $0.worker = worker } }
}
