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
    /// How a record's outcome or dead letter is produced again after Kafka refused it.
    let produceRetry: RetryPolicy
    /// What every delivery's state machine is told (its route may override `onUncertain`).
    let machineSettings: DeliveryMachine.Settings
    let state = Mutex(State())
    let governor: Mutex<RateGovernor>
    let lanes: Lanes<String, WorkItem>
    /// Installs the app through Graph for users who never installed it (`bot.proactiveInstall`).
    let installer: AppInstaller?
    /// Finds people named by email or UPN, and groups' members (Microsoft Graph).
    let directory: DirectoryResolver?
    /// Teams' channel lists by team id, to find a channel by name, and when each was read.
    let channelLists = Mutex<[String: (channels: [TeamChannel], readAt: ContinuousClock.Instant)]>([:])
    /// Delivery ids a drive of this worker holds: the ledger lets one worker claim an id again (a renewal), so two
    /// drives of the same id in one worker (one person named twice in an event's route) are kept apart here.
    let localClaims = Mutex<Set<String>>([])
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
            let clock = options.clock
            self.installer = AppInstaller(
                graph: graph, teamsAppId: teamsAppId, perTenantPerSecond: options.installsPerTenantPerSecond,
                clock: clock, logger: logger.component("graph"))
        } else {
            self.installer = nil
        }
        self.directory = graph.map { graph in
            DirectoryResolver(
                graph: graph, store: store, cacheFor: options.directoryCacheFor,
                notFoundCacheFor: options.directoryNotFoundCacheFor,
                perTenantPerSecond: options.directoryPerTenantPerSecond, clock: options.clock,
                wallClock: options.wallClock, logger: logger.component("directory"))
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
        self.ledger = DeliveryLedger(
            store: store, worker: options.worker, lease: options.claimLease, now: options.wallClock)
        self.lookups = DeliveryLookups(store: store)
        let backoff = Backoff(base: options.retryBase, cap: max(options.retryBase, options.maxRetryDelay))
        self.produceRetry = RetryPolicy(backoff: backoff, growthLimit: 4)
        self.machineSettings = DeliveryMachine.Settings(
            worker: options.worker, retry: RetryPolicy(backoff: backoff, maxAttempts: max(1, options.maxAttempts)),
            giveUpAfter: options.giveUpAfter, claimLease: options.claimLease,
            blockedRecheckAfter: options.blockedRecheckAfter, onUncertain: options.onUncertain,
            canInstall: installer != nil, defaultServiceUrl: client.configuration.effectiveDefaultServiceUrl,
            canReadDirectory: directory != nil)
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
        // `maxInFlight` is kept by pausing partitions (Worker+Intake), never by blocking the poll loop: a member
        // that stops polling is thrown out of the group.
        self.lanes = Lanes { item in await reference.worker?.process(item) }
        let events = KafkaConsumerConfiguration(
            cluster: cluster, groupId: options.groupId, topics: options.eventsTopics,
            maxBatchSize: options.pollBatchSize, pollTimeout: .milliseconds(100))
        self.consumer = try KafkaConsumer(configuration: events, logger: logger.component("kafka")) { event in
            await reference.worker?.rebalanced(event)
        }
        reference.set(self)
    }

    /// The wall clock's time (``WorkerOptions/wallClock``).
    func now() -> Date { options.wallClock() }

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
    public func consume() async throws {
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
                group.addTask { await self.digestLoop() }
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
                try? await self.options.clock.sleep(for: self.options.shutdownGracePeriod)
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
