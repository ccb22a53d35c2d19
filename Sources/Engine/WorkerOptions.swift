import Foundation
import HeraldConfig
import RateLimiting

/// How a ``Worker`` runs: the `delivery.*` and `kafka.*` settings it uses, plus a few internal bounds.
public struct WorkerOptions: Sendable {
    /// `host/process`: recorded in outcomes and as the ledger's claimant.
    public var worker: String
    public var groupId: String
    public var eventsTopics: [String]
    public var outcomesTopic: String
    public var deadLetterTopic: String
    /// Deliveries admitted and not finished before the consumer pauses its partitions. Default: 2000.
    public var maxInFlight = 2000
    /// Send attempts per delivery, the first included. Default: 10.
    public var maxAttempts = 10
    /// The first retry waits up to this long; each later one up to twice as long. Default: 500 ms.
    public var retryBase: Duration = .milliseconds(500)
    /// No retry waits longer (unless Teams' `Retry-After` says so). Default: 5 min.
    public var maxRetryDelay: Duration = .seconds(300)
    /// A delivery still failing this long after its event's time fails. Default: 24 h.
    public var giveUpAfter: Duration = .seconds(86_400)
    /// Per-conversation windows (Teams': 7/1 s, 8/2 s, 60/30 s, 1800/3600 s).
    public var conversationWindows: [SlidingWindowLimiter.Window]
    /// Requests per second per tenant, for the whole group. Default: 50.
    public var perTenantPerSecond: Double = 50
    /// A blocked recipient is tried again after this long. Default: 24 h.
    public var blockedRecheckAfter: Duration = .seconds(86_400)
    /// How long a SIGTERM drain may take before in-flight deliveries are parked. Default: 30 s.
    public var shutdownGracePeriod: Duration = .seconds(30)
    /// After the grace period, how long parking in-flight deliveries and then closing Kafka may each take
    /// before the worker stops without them. Default: 5 s.
    public var closeTimeout: Duration = .seconds(5)
    /// A delivery a killed worker left uncertain, for routes that do not say. Default: `fail`.
    public var onUncertain: UncertainDeliveryPolicy = .fail
    /// How long a ledger claim holds; a killed worker's claims are taken over after it. Default: 30 s.
    public var claimLease: Duration = .seconds(30)
    /// How long a revoke waits for in-flight deliveries of the revoked partitions. Default: 5 s.
    public var revokeGrace: Duration = .seconds(5)
    /// The least and the most kept to spare in every tenant window for requests that reach Teams later than
    /// others that left with them (scheduling, pooled connections, a busy machine). Within them, the slowest
    /// recent round trip is used (see ``RateGovernor/confirm(tenant:now:)``). Default: 5 ms ... 250 ms.
    public var jitterBounds: ClosedRange<Duration> = .milliseconds(5) ... .milliseconds(250)
    /// The fraction of Teams' per-conversation windows the engine plans to use. One conversation's requests
    /// go one at a time, so they drift less than a tenant's. Default: 0.97.
    public var conversationHeadroom = 0.97
    /// The app's id in the organisation's catalog, for proactive installation; nil: no installation.
    public var teamsAppId: String?
    /// App installations started per tenant per second. Default: 5.
    public var installsPerTenantPerSecond = 5
    /// How long a person's directory answer is cached (`directory.cacheFor`). Default: 24 h.
    public var directoryCacheFor: Duration = .seconds(86_400)
    /// How long a directory miss is cached (`directory.notFoundCacheFor`). Default: 1 h.
    public var directoryNotFoundCacheFor: Duration = .seconds(3_600)
    /// Graph directory requests per tenant per second for the group (`directory.perTenantPerSecond`). Default: 100.
    public var directoryPerTenantPerSecond = 100
    /// Users per page of a group read from Graph (at most 999). Default: 999.
    public var groupPageSize = 999
    /// How long a team's channel list is used to find a channel by name. Default: 10 min.
    public var channelListCacheFor: Duration = .seconds(600)
    /// Records per poll. Default: 500.
    public var pollBatchSize = 500
    /// Records read ahead of admission (partitions pause when this many wait, and resume at half). It keeps
    /// the pipeline fed while fetching restarts after a resume. Default: 20,000.
    public var readAhead = 20_000
    /// Bytes of record values read ahead of admission, the same way. Default: 64 MiB.
    public var readAheadBytes = 64 << 20
    /// How often due deferred deliveries are looked for. Default: 1 s.
    public var deferredPollInterval: Duration = .seconds(1)
    /// How often consumer lag is measured for the metrics. Default: 5 s.
    public var lagInterval: Duration = .seconds(5)
    /// How often committable offsets are committed. Default: 250 ms.
    public var commitInterval: Duration = .milliseconds(250)
    /// Members of one team delivered to at once in a `teamMembers` fan-out. Default: 16.
    public var memberConcurrency = 16
    /// What the worker sleeps on (waits for rate capacity, retries, polling loops). Default: `ContinuousClock`.
    public var clock: any WorkerClock = ContinuousClock()
    /// The wall clock: expiry, deferral, quiet hours, leases, outcome times. Default: the system's.
    public var wallClock: @Sendable () -> Date = { Date() }

    public init(
        worker: String, groupId: String, eventsTopics: [String], outcomesTopic: String, deadLetterTopic: String,
        conversationWindows: [SlidingWindowLimiter.Window]
    ) {
        self.worker = worker
        self.groupId = groupId
        self.eventsTopics = eventsTopics
        self.outcomesTopic = outcomesTopic
        self.deadLetterTopic = deadLetterTopic
        self.conversationWindows = conversationWindows
    }

    /// The options `configuration` asks for.
    public init(configuration: HeraldConfiguration, worker: String) {
        let delivery = configuration.delivery
        self.init(
            worker: worker, groupId: configuration.kafka.groupId, eventsTopics: configuration.kafka.eventsTopics,
            outcomesTopic: configuration.kafka.outcomesTopic, deadLetterTopic: configuration.kafka.deadLetterTopic,
            conversationWindows: delivery.rateLimits.perConversation.windows.map {
                SlidingWindowLimiter.Window(count: $0.count, length: .milliseconds(Int64($0.seconds * 1000)))
            })
        maxInFlight = delivery.maxInFlight
        maxAttempts = delivery.maxAttempts
        maxRetryDelay = delivery.maxRetryDelay
        retryBase = min(retryBase, maxRetryDelay)
        giveUpAfter = delivery.giveUpAfter
        perTenantPerSecond = Double(delivery.rateLimits.perTenantPerSecond)
        blockedRecheckAfter = delivery.blockedRecheckAfter
        shutdownGracePeriod = delivery.shutdownGracePeriod
        onUncertain = delivery.onUncertain
        pollBatchSize = min(500, max(1, maxInFlight))
        // The loader refuses proactiveInstall without a teamsAppId.
        teamsAppId = configuration.bot.proactiveInstall ? configuration.bot.teamsAppId : nil
        installsPerTenantPerSecond = configuration.bot.installsPerTenantPerSecond
        directoryCacheFor = configuration.directory.cacheFor
        directoryNotFoundCacheFor = configuration.directory.notFoundCacheFor
        directoryPerTenantPerSecond = configuration.directory.perTenantPerSecond
    }
}

/// A clock the engine sleeps on and takes monotonic time from: `ContinuousClock`, or a test's manual clock.
/// Its instants are `ContinuousClock`'s, so the rate governor and the app installer keep their arithmetic.
public protocol WorkerClock: Clock where Instant == ContinuousClock.Instant, Duration == Swift.Duration {}

extension ContinuousClock: WorkerClock {}
