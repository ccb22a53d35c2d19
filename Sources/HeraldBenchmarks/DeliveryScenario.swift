import BotConnector
import ChildProcess
import Engine
import Foundation
import Kafka
import Logging
import RateLimiting
import Routing
import Store

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The delivery benchmarks (`throughput`, `fanout`, `hot-conversation`, `multi-tenant`, `scale-out`): an embedded
/// Kafka cluster in this process, the Teams emulator and one or more `herald run` workers as separate processes
/// (so their CPU and memory are their own), events published up front, outcomes read back.
package struct DeliveryScenario {
    /// What one run delivers and under which limits.
    package struct Plan {
        package var name: String
        /// Events, one delivery each.
        package var deliveries: Int
        package var users: Int
        package var tenants: Int
        /// `off`, `teams` or `scaled:K` (the emulator's and, scaled alike, the workers' limits).
        package var limits: String
        package var workers = 1
        /// Conversations exist and references are stored before the run (no creates in the measurement).
        package var storedReferences = true
        /// Seconds to measure the emulator's raw HTTP ceiling on this machine for (0: not measured).
        package var rawCeilingSeconds = 0
        /// Publish the events only once every worker has its partitions (scale-out: the steady state of a
        /// running group, not the group forming); otherwise they are published before the workers start.
        package var publishOnceJoined = false
        /// Every event goes to one team channel as a new thread (the noisy CI stream); with `digestMaxItems`,
        /// through a batch digest route of that many items (and a 10-minute window).
        package var oneChannel = false
        package var digestMaxItems: Int?
        /// Stop after this long and report what was delivered so far (a run Teams' limits make hours long).
        package var measureFor: Duration?
        /// Partitions of the events and outcomes topics. The mock cluster keeps about 5 MB per partition, so a
        /// backlog of a million events needs more of them than the default.
        package var eventPartitions = 16
        package var outcomePartitions = 32
        /// Events published per second while the workers run (a soak), instead of all of them up front.
        package var publishRate: Int?
        /// Sample each worker's resident memory this often (a soak's growth over time).
        package var sampleRssEvery: Duration?
        /// A shell command run instead of `herald run` (`herald bench compare --peer`): another worker, measured
        /// on the same events, emulator and broker (see ``DeliveryScenario/peerEnvironment``).
        package var peer: String?

        package init(name: String, deliveries: Int, users: Int, tenants: Int, limits: String) {
            self.name = name
            self.deliveries = deliveries
            self.users = users
            self.tenants = tenants
            self.limits = limits
        }

        var scale: Int? {
            if limits == "teams" { return 1 }
            if limits.hasPrefix("scaled:") { return Int(limits.dropFirst("scaled:".count)) }
            return nil
        }

        /// The shortest time Teams' limits allow for the plan's sends (nil without limits): every request admitted
        /// at the earliest moment the tenant and conversation windows allow.
        /// Messages the plan's events make: one each, or one per full digest.
        var messages: Int {
            guard oneChannel, let digestMaxItems else { return deliveries }
            return (deliveries + digestMaxItems - 1) / digestMaxItems
        }

        var minimumSeconds: Double? {
            guard let scale else { return nil }
            let (sends, users, tenants) = oneChannel ? (messages, 1, 1) : (deliveries, self.users, self.tenants)
            let teams: [(Int, Int64)] = [(7, 1), (8, 2), (60, 30), (1800, 3600)]
            let conversationWindows = teams.map {
                SlidingWindowLimiter.Window(count: $0.0 * scale, length: .seconds($0.1))
            }
            let tenantWindow = [SlidingWindowLimiter.Window(count: 50 * scale, length: .seconds(1))]
            var conversations: [Int: SlidingWindowLimiter] = [:]
            var tenantLimiters: [Int: SlidingWindowLimiter] = [:]
            let start = ContinuousClock.now
            var last = start
            var clocks: [Int: ContinuousClock.Instant] = [:]
            for index in 0..<sends {
                let user = index % users
                let tenant = user % tenants
                var now = clocks[tenant] ?? start
                var conversation = conversations[user] ?? SlidingWindowLimiter(windows: conversationWindows)
                var limiter = tenantLimiters[tenant] ?? SlidingWindowLimiter(windows: tenantWindow)
                while true {
                    let wait = max(conversation.wait(now: now) ?? .zero, limiter.wait(now: now) ?? .zero)
                    if wait == .zero { break }
                    now += wait
                }
                conversation.record(now: now)
                limiter.record(now: now)
                conversations[user] = conversation
                tenantLimiters[tenant] = limiter
                clocks[tenant] = now
                last = max(last, now)
            }
            let (seconds, attoseconds) = (last - start).components
            return Double(seconds) + Double(attoseconds) / 1e18
        }
    }

    package struct Result {
        package var plan: Plan
        var deliveries: Int
        var delivered: Int
        var makespanSeconds: Double
        var p50Ms: Int
        var p99Ms: Int
        var throttled: Int
        var cpuSeconds: Double
        var peakRssBytes: Int
        var rawCeilingPerSecond: Double?
        /// Teams messages the deliveries went out in (distinct activity ids).
        var messages = 0
        /// The run stopped at ``Plan/measureFor`` with deliveries still waiting.
        var partial = false
        /// The workers' summed resident memory at each ``Plan/sampleRssEvery``, in bytes.
        var rssSamples: [Int] = []

        /// Least-squares growth of the sampled resident memory, bytes per hour; the first sample (start-up,
        /// caches filling) is left out. Nil with fewer than three samples.
        var rssSlopePerHour: Double? {
            guard let every = plan.sampleRssEvery, rssSamples.count >= 3 else { return nil }
            let samples = rssSamples.dropFirst()
            let (s, atto) = every.components
            let step = (Double(s) + Double(atto) / 1e18) / 3600
            let xs = samples.indices.map { Double($0) * step }
            let ys = samples.map(Double.init)
            let meanX = xs.reduce(0, +) / Double(xs.count)
            let meanY = ys.reduce(0, +) / Double(ys.count)
            let covariance = zip(xs, ys).reduce(0) { $0 + ($1.0 - meanX) * ($1.1 - meanY) }
            let variance = xs.reduce(0) { $0 + ($1 - meanX) * ($1 - meanX) }
            return variance > 0 ? covariance / variance : nil
        }

        var deliveriesPerSecond: Double { Double(deliveries) / max(makespanSeconds, 0.001) }
        /// Nil for a run stopped early (it did not do the whole plan).
        var completeRatio: Double? { partial ? nil : makespanRatio }
        var cpuSecondsPer1000: Double { cpuSeconds / Double(max(deliveries, 1)) * 1000 }
        /// Nil when the limits allow the whole plan in under half a second (a ratio would mean nothing).
        var makespanRatio: Double? {
            guard let minimum = plan.minimumSeconds, minimum >= 0.5 else { return nil }
            return makespanSeconds / minimum
        }

        /// The side-by-side line of `herald bench compare`.
        package static func comparison(herald: Result, peer: Result) -> String {
            String(
                format:
                    "Herald %.0f/s at %.3f CPU s per 1,000 deliveries, %d MB peak; the peer %.0f/s at %.3f, %d MB: Herald %.2fx the rate at %.2fx the CPU per delivery",
                herald.deliveriesPerSecond, herald.cpuSecondsPer1000, herald.peakRssBytes / 1_048_576,
                peer.deliveriesPerSecond, peer.cpuSecondsPer1000, peer.peakRssBytes / 1_048_576,
                herald.deliveriesPerSecond / max(peer.deliveriesPerSecond, 0.001),
                herald.cpuSecondsPer1000 / max(peer.cpuSecondsPer1000, 0.000_001))
        }

        package var object: [String: Any] {
            var object: [String: Any] = [
                "scenario": plan.name, "deliveries": deliveries, "delivered": delivered, "workers": plan.workers,
                "deliveriesPerSecond": deliveriesPerSecond.rounded(), "p50Ms": p50Ms < 0 ? NSNull() : p50Ms,
                "p99Ms": p99Ms < 0 ? NSNull() : p99Ms,
                "throttled": throttled, "cpuSecondsPer1000": (cpuSecondsPer1000 * 1000).rounded() / 1000,
                "peakRssBytes": peakRssBytes, "makespanSeconds": (makespanSeconds * 1000).rounded() / 1000,
                "limits": plan.limits,
            ]
            if let minimum = plan.minimumSeconds {
                object["minimumSeconds"] = (minimum * 1000).rounded() / 1000
                object["makespanRatio"] = completeRatio.map { ($0 * 1000).rounded() / 1000 }
            }
            if plan.oneChannel {
                object["events"] = plan.deliveries
                object["teamsMessages"] = messages
                object["digestMaxItems"] = plan.digestMaxItems
                object["partial"] = partial
            }
            if let raw = rawCeilingPerSecond {
                object["rawHttpPerSecond"] = raw.rounded()
                object["ratioToRawHttp"] = (deliveriesPerSecond / raw * 1000).rounded() / 1000
            }
            if let rate = plan.publishRate { object["publishedPerSecond"] = rate }
            if !rssSamples.isEmpty {
                object["rssSamplesBytes"] = rssSamples
                object["rssSlopeBytesPerHour"] = rssSlopePerHour.map { $0.rounded() }
            }
            return object
        }

        package var row: String {
            var text = plan.name.padding(toLength: 26, withPad: " ", startingAt: 0)
            // A peer's latencies are not known (it publishes no outcomes Herald reads).
            let latencies =
                p50Ms < 0 ? "p50       n/a  p99       n/a" : String(format: "p50 %6d ms  p99 %6d ms", p50Ms, p99Ms)
            text += String(
                format: "%d worker(s) %7d deliveries  %8.0f/s  ", plan.workers, deliveries, deliveriesPerSecond)
            text += latencies
            text += String(
                format: "  429s %4d  cpu %.3f s/1000  rss %4d MB", throttled, cpuSecondsPer1000,
                peakRssBytes / 1_048_576)
            if let minimum = plan.minimumSeconds, let ratio = completeRatio {
                text += String(format: "  makespan %.1f s = %.2fx the %.1f s minimum", makespanSeconds, ratio, minimum)
            }
            if let raw = rawCeilingPerSecond {
                text += String(format: "  (emulator raw HTTP %.0f/s: %.2f of it)", raw, deliveriesPerSecond / raw)
            }
            if let first = rssSamples.first, let last = rssSamples.last {
                text += String(
                    format: "  rss sampled %d times: %d MB first, %d MB last, %d-%d MB after the first",
                    rssSamples.count, first / 1_048_576, last / 1_048_576,
                    (rssSamples.dropFirst().min() ?? first) / 1_048_576,
                    (rssSamples.dropFirst().max() ?? first) / 1_048_576)
                if let slope = rssSlopePerHour {
                    text += String(format: ", slope %+.1f MB/h", slope / 1_048_576)
                }
            }
            if plan.oneChannel {
                text += String(format: "  %d events in %d Teams messages", plan.deliveries, messages)
                if partial, let minimum = plan.minimumSeconds {
                    text += String(
                        format:
                            "; stopped after %.0f s with %d delivered: Teams' windows allow all %d in no less than %.2f h",
                        makespanSeconds, deliveries, plan.deliveries, minimum / 3600)
                }
            }
            return text
        }
    }

    var plan: Plan
    /// nil: SQLite in a temporary folder.
    var storeURL: String?
    var logger: Logger

    package init(plan: Plan, storeURL: String?, logger: Logger) {
        self.plan = plan
        self.storeURL = storeURL
        self.logger = logger
    }

    static let appId = "00000000-0000-0000-0000-0000000be4c4"
    static let appPassword = "bench-secret"

    func tenant(_ index: Int) -> String { String(format: "%08x-0000-4000-8000-000000000000", index) }
    func user(_ index: Int) -> String { String(format: "00000000-0000-4000-8000-%012x", index) }

    package func run() async throws -> Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let kafka = try EmbeddedKafka(brokers: 1, logger: logger)
        // The mock cluster keeps about 5 MB per partition: enough partitions that nothing is dropped unread.
        try kafka.createTopic("events", partitions: Int32(plan.eventPartitions))
        try kafka.createTopic("outcomes", partitions: Int32(plan.outcomePartitions))
        try kafka.createTopic("dead-letters", partitions: 1)
        let herald = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()

        // The emulator, limits off while the conversations are prepared.
        let emulator = ChildProcess(
            herald,
            ["emulator", "--port", "0", "--app-id", Self.appId, "--app-password", Self.appPassword, "--limits", "off"])
        try emulator.start()
        defer { emulator.kill() }
        let line = await emulator.line(containing: "listening on")
        guard let origin = line.split(separator: " ").first(where: { $0.hasPrefix("http://") }).map(String.init) else {
            throw BenchError("the emulator did not start: \(emulator.text(of: .stderr).suffix(500))")
        }
        let serviceUrl = "\(origin)/teams/"
        let storeURL = self.storeURL ?? "sqlite://\(folder.path)/herald.db"
        let runId = String(UUID().uuidString.prefix(8)).lowercased()
        let client = BotConnectorClient(
            configuration: .init(
                appId: Self.appId, appPassword: Self.appPassword,
                tokenURL: "\(origin)/botframework.com/oauth2/v2.0/token",
                defaultServiceUrl: serviceUrl, allowedServiceHosts: [origin]),
            maxConnectionsPerHost: 32, logger: logger)
        defer { Task { try? await client.shutdown() } }
        var rawCeiling: Double?
        if plan.rawCeilingSeconds > 0 {
            rawCeiling = try await Self.rawHTTPRate(client, seconds: plan.rawCeilingSeconds)
        }
        var references: [ConversationReference] = []
        if plan.storedReferences, !plan.oneChannel {
            references = try await prepareConversations(
                client, storeURL: storeURL, serviceUrl: serviceUrl, runId: runId)
        }
        try await setEmulatorLimits(origin: origin, plan.limits)
        if let peer = plan.peer {
            try await publish(kafka.bootstrapServers, runId: runId)
            return try await runPeer(
                peer, folder: folder, bootstrap: kafka.bootstrapServers, origin: origin, serviceUrl: serviceUrl,
                references: references)
        }

        try write(
            folder: folder, bootstrap: kafka.bootstrapServers, origin: origin, serviceUrl: serviceUrl,
            storeURL: storeURL)
        let publishLater = plan.publishOnceJoined || plan.publishRate != nil
        if !publishLater { try await publish(kafka.bootstrapServers, runId: runId) }

        var workers: [ChildProcess] = []
        defer { for worker in workers { worker.kill() } }
        for _ in 0..<plan.workers {
            let worker = ChildProcess(
                herald,
                ["run", "--config", folder.appendingPathComponent("herald.yaml").path, "--log-level", "warning"],
                collectOutput: true)
            try worker.start()
            workers.append(worker)
        }
        var pacedPublisher: Task<Void, any Error>?
        if publishLater {
            try await Self.untilReady(workers)
            if let rate = plan.publishRate {
                pacedPublisher = Task { try await publish(kafka.bootstrapServers, runId: runId, perSecond: rate) }
            } else {
                try await publish(kafka.bootstrapServers, runId: runId)
            }
        }
        defer { pacedPublisher?.cancel() }
        let sampler = plan.sampleRssEvery.map { every in
            let pids = workers.map(\.processIdentifier)
            return Task { () -> [Int] in
                var samples: [Int] = []
                // Sampling on a schedule is what a soak measures: the sleep is the sampling interval.
                while (try? await Task.sleep(for: every)) != nil {
                    samples.append(pids.reduce(0) { $0 + ProcessUsage(pid: $1).rssBytes })
                }
                return samples
            }
        }
        let started = ContinuousClock.now
        let outcomes = try await readOutcomes(
            kafka.bootstrapServers, count: plan.deliveries, workers: workers,
            until: plan.measureFor.map { started + $0 })
        let ended = ContinuousClock.now
        sampler?.cancel()
        let rssSamples = await sampler?.value ?? []
        try await pacedPublisher?.value
        // CPU time and peak memory, read before the workers exit.
        var cpu = 0.0
        var rss = 0
        for worker in workers {
            let usage = ProcessUsage(pid: worker.processIdentifier)
            cpu += usage.cpuSeconds
            rss = max(rss, usage.peakRssBytes)
        }
        for worker in workers { worker.terminate() }
        for worker in workers { _ = await worker.exit(timeout: .seconds(60)) }

        let latencies = outcomes.compactMap(\.latencyMs).sorted()
        func percentile(_ p: Double) -> Int { EngineStats.percentile(p, ofSorted: latencies) ?? 0 }
        let first = outcomes.compactMap { $0.firstAttemptAt.flatMap(RFC3339.parse) }.min()
        let last = outcomes.compactMap { RFC3339.parse($0.completedAt) }.max()
        let partial = outcomes.count < plan.deliveries
        // A digest's outcomes start with its first event, not its send: measure from the first publish then.
        let makespan =
            partial || plan.digestMaxItems != nil
            ? (ended - started) / .seconds(1)
            : first.flatMap { start in last.map { $0.timeIntervalSince(start) } } ?? 0
        var result = Result(
            plan: plan, deliveries: outcomes.count, delivered: outcomes.filter { $0.status == "delivered" }.count,
            makespanSeconds: makespan, p50Ms: percentile(50), p99Ms: percentile(99),
            throttled: outcomes.reduce(0) { $0 + $1.throttled }, cpuSeconds: cpu, peakRssBytes: rss,
            rawCeilingPerSecond: rawCeiling)
        result.messages = Set(outcomes.compactMap(\.activityId)).count
        result.partial = partial
        result.rssSamples = rssSamples
        return result
    }

    /// Creates every user's 1:1 conversation in the emulator and stores its reference, as a bot that has
    /// talked to its users before would have them.
    private func prepareConversations(
        _ client: BotConnectorClient, storeURL: String, serviceUrl: String, runId: String
    ) async throws -> [ConversationReference] {
        let tenants = plan.tenants
        let references = try await withThrowingTaskGroup(of: ConversationReference.self) { group in
            var references: [ConversationReference] = []
            for index in 0..<plan.users {
                if index >= 32, let reference = try await group.next() { references.append(reference) }
                let aad = "\(runId)-\(user(index))"
                let tenant = self.tenant(index % tenants)
                group.addTask {
                    let resource = try await client.createConversation(
                        serviceUrl: nil, ConversationParameters(target: .userAADObjectId(aad), tenantId: tenant))
                    return ConversationReference(
                        key: "user:aad:\(tenant)/\(aad)", conversationId: resource.id, serviceUrl: serviceUrl,
                        tenantId: tenant, aadObjectId: aad, scope: .personal)
                }
            }
            for try await reference in group { references.append(reference) }
            return references
        }
        try await withStore(url: storeURL, logger: logger) { store in
            for start in stride(from: 0, to: references.count, by: 1000) {
                try await store.upsertReferences(Array(references[start..<min(start + 1000, references.count)]))
            }
        }
        return references
    }

    // MARK: A peer worker

    /// What a peer worker is told, as environment variables: where the events are, how to get a Bot Framework
    /// token from the emulator, and every user's conversation (a JSON Lines file of Bot Framework
    /// `ConversationReference`s, as the SDKs serialize them). Each event is a CloudEvent in structured JSON mode
    /// on `HERALD_PEER_EVENTS_TOPIC`, `{"type":"bench.notify", ..., "data":{"user": AAD, "tenant": T, "seq": N}}`;
    /// the peer sends `Notification N for you` as a message to that user's conversation.
    static func peerEnvironment(
        bootstrap: String, origin: String, serviceUrl: String, references: URL
    ) -> [String: String] {
        [
            "HERALD_PEER_BROKERS": bootstrap,
            "HERALD_PEER_EVENTS_TOPIC": "events",
            "HERALD_PEER_GROUP_ID": "herald-bench-peer",
            "HERALD_PEER_APP_ID": appId,
            "HERALD_PEER_APP_PASSWORD": appPassword,
            "HERALD_PEER_TOKEN_URL": "\(origin)/botframework.com/oauth2/v2.0/token",
            "HERALD_PEER_SERVICE_URL": serviceUrl,
            "HERALD_PEER_REFERENCES": references.path,
        ]
    }

    /// Runs `command` (with `/bin/sh -c exec`, so its process is the one measured) until the emulator has
    /// received one message per event. A peer publishes no outcomes Herald can read, so its makespan runs from
    /// the emulator's first message to its last (polled every 50 ms) and it has no latency percentiles.
    private func runPeer(
        _ command: String, folder: URL, bootstrap: String, origin: String, serviceUrl: String,
        references: [ConversationReference]
    ) async throws -> Result {
        let file = folder.appendingPathComponent("references.jsonl")
        var lines = ""
        for reference in references {
            let object: [String: Any] = [
                "user": ["id": "", "aadObjectId": reference.aadObjectId ?? ""],
                "bot": ["id": "28:\(Self.appId)"],
                "conversation": [
                    "id": reference.conversationId, "tenantId": reference.tenantId, "conversationType": "personal",
                ],
                "channelId": "msteams", "serviceUrl": reference.serviceUrl,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            lines += String(decoding: data, as: UTF8.self) + "\n"
        }
        try lines.write(to: file, atomically: true, encoding: .utf8)
        let sentBefore = try await Self.activitiesSent(origin: origin)
        let environment = ProcessInfo.processInfo.environment.merging(
            Self.peerEnvironment(bootstrap: bootstrap, origin: origin, serviceUrl: serviceUrl, references: file)
        ) { _, peer in peer }
        let process = ChildProcess(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "exec \(command)"], environment: environment, collectOutput: true)
        try process.start()
        defer { process.kill() }
        var first: ContinuousClock.Instant?
        var sent = 0
        var lastProgress = ContinuousClock.now
        while sent < plan.deliveries {
            guard process.isRunning else {
                throw BenchError("the peer exited after \(sent) messages: \(process.text(of: .stderr).suffix(1000))")
            }
            guard ContinuousClock.now - lastProgress < .seconds(120) else {
                throw BenchError(
                    "no message from the peer for two minutes (\(sent) of \(plan.deliveries)): \(process.text(of: .stderr).suffix(1000))"
                )
            }
            try await Task.sleep(for: .milliseconds(50))
            let now = try await Self.activitiesSent(origin: origin) - sentBefore
            if now > sent {
                if first == nil { first = .now }
                sent = now
                lastProgress = .now
            }
        }
        let ended = ContinuousClock.now
        let usage = ProcessUsage(pid: process.processIdentifier)
        process.terminate()
        _ = await process.exit(timeout: .seconds(30))
        var result = Result(
            plan: plan, deliveries: sent, delivered: sent,
            makespanSeconds: (ended - (first ?? ended)) / .seconds(1), p50Ms: -1, p99Ms: -1, throttled: 0,
            cpuSeconds: usage.cpuSeconds, peakRssBytes: usage.peakRssBytes, rawCeilingPerSecond: nil)
        result.messages = sent
        return result
    }

    /// The emulator's count of messages received (`activitiesSent` in `GET /emulator/stats`).
    static func activitiesSent(origin: String) async throws -> Int {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "\(origin)/emulator/stats")!)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let sent = object["activitiesSent"] as? Int
        else { throw BenchError("the emulator's stats have no activitiesSent") }
        return sent
    }

    private func setEmulatorLimits(origin: String, _ limits: String) async throws {
        var request = URLRequest(url: URL(string: "\(origin)/emulator/config")!)
        request.httpMethod = "POST"
        request.httpBody = Data(#"{"limits":"\#(limits)"}"#.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let (_, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw BenchError("the emulator refused limits \(limits)")
        }
    }

    private func write(folder: URL, bootstrap: String, origin: String, serviceUrl: String, storeURL: String) throws {
        let recipient =
            plan.oneChannel
            ? #"channel: { teamId: "19:bench-team@thread.tacv2", channelId: "19:bench-ci@thread.tacv2", tenantId: "${data.tenant}" }"#
            : #"user: { aadObjectId: "${data.user}", tenantId: "${data.tenant}" }"#
        let message =
            plan.digestMaxItems == nil
            ? #"text: "Notification ${data.seq} for you""# : #"text: "${count} builds failed""#
        let digest = plan.digestMaxItems.map { "\n    digest: { mode: batch, window: 10m, maxItems: \($0) }" } ?? ""
        let routes = """
            routes:
              - name: bench
                match: { type: "bench.notify" }
                to:
                  - \(recipient)
                message:
                  \(message)\(digest)
            """
        try routes.write(to: folder.appendingPathComponent("routes.yaml"), atomically: true, encoding: .utf8)
        let scale = plan.scale
        let perConversation =
            scale.map { k in
                "["
                    + [(7, 1), (8, 2), (60, 30), (1800, 3600)].map { "{count: \($0.0 * k), seconds: \($0.1)}" }.joined(
                        separator: ", ") + "]"
            } ?? "[{count: 1000000, seconds: 1}]"
        let config = """
            kafka:
              brokers: "\(bootstrap)"
              groupId: herald-bench
              eventsTopics: [events]
              outcomesTopic: outcomes
              deadLetterTopic: dead-letters
            bot:
              appId: "\(Self.appId)"
              appPassword: "\(Self.appPassword)"
              tokenUrl: "\(origin)/botframework.com/oauth2/v2.0/token"
              defaultServiceUrl: "\(serviceUrl)"
              allowedServiceHosts: ["\(origin)"]
            store:
              url: "\(storeURL)"
            routing:
              routesFile: routes.yaml
            delivery:
              maxInFlight: 1000
              rateLimits:
                perConversation: \(perConversation)
                perTenantPerSecond: \(scale.map { 50 * $0 } ?? 100_000)
            http:
              port: 0
            log:
              level: warning
            """
        try config.write(to: folder.appendingPathComponent("herald.yaml"), atomically: true, encoding: .utf8)
    }

    /// Waits until every worker answers 200 on `/readyz`: it has partitions of the group, its store and token
    /// work. When the last one is ready, the group's latest assignment included all of them.
    static func untilReady(_ workers: [ChildProcess], within limit: Duration = .seconds(120)) async throws {
        let deadline = ContinuousClock.now + limit
        for worker in workers {
            while true {
                guard worker.isRunning else {
                    throw BenchError("a worker exited before it was ready: \(worker.text(of: .stderr).suffix(500))")
                }
                guard ContinuousClock.now < deadline else {
                    throw BenchError("a worker was not ready within \(limit): \(worker.text(of: .stderr).suffix(500))")
                }
                let printed = worker.text(of: .stdout).split(separator: "\n").first { $0.hasPrefix("http.port=") }
                if let port = printed?.dropFirst("http.port=".count),
                    let url = URL(string: "http://127.0.0.1:\(port)/readyz"),
                    let (_, response) = try? await URLSession.shared.data(from: url),
                    (response as? HTTPURLResponse)?.statusCode == 200
                {
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Publishes the plan's events: all at once (in slices of 100,000, so a million-event backlog does not
    /// sit in memory twice), or `perSecond` of them each second, in ten slices a second.
    private func publish(_ bootstrap: String, runId: String, perSecond: Int? = nil) async throws {
        let producer = try KafkaProducer(
            configuration: .init(cluster: .init(bootstrapServers: bootstrap)), logger: logger)
        let formatter = ISO8601DateFormatter()
        // Each slice's events carry the time they are published at: outcome latencies count from it.
        func events(_ range: Range<Int>) -> [ProducerMessage] {
            let now = formatter.string(from: Date())
            return range.map { index in
                let userIndex = index % plan.users
                let aad = "\(runId)-\(user(userIndex))"
                let value =
                    #"{"specversion":"1.0","id":"\#(runId)-\#(index)","type":"bench.notify","source":"/bench","time":"\#(now)","data":{"user":"\#(aad)","tenant":"\#(tenant(userIndex % plan.tenants))","seq":\#(index)}}"#
                return ProducerMessage(topic: "events", key: Array(aad.utf8), value: Array(value.utf8))
            }
        }
        var published = 0
        if let perSecond {
            let start = ContinuousClock.now
            while published < plan.deliveries {
                // The pacing itself: a slice every 100 ms, as many as the rate allows by now.
                try await Task.sleep(for: .milliseconds(100))
                let elapsed = (ContinuousClock.now - start) / .seconds(1)
                let due = min(plan.deliveries, Int(elapsed * Double(perSecond)))
                guard due > published else { continue }
                for result in await producer.send(events(published..<due)) { _ = try result.get() }
                published = due
            }
        } else {
            while published < plan.deliveries {
                let end = min(plan.deliveries, published + 100_000)
                for result in await producer.send(events(published..<end)) { _ = try result.get() }
                published = end
            }
        }
        try await producer.shutdown()
    }

    struct OutcomeFields: Decodable {
        var deliveryId: String
        var status: String
        var throttled: Int
        var latencyMs: Int?
        var firstAttemptAt: String?
        var completedAt: String
        var activityId: String?
    }

    /// Reads outcomes until every delivery has one; fails when none arrives for two minutes.
    private func readOutcomes(
        _ bootstrap: String, count: Int, workers: [ChildProcess], until deadline: ContinuousClock.Instant?
    ) async throws -> [OutcomeFields] {
        let consumer = try KafkaConsumer(
            configuration: .init(
                cluster: .init(bootstrapServers: bootstrap), groupId: "bench-reader-\(UUID().uuidString)",
                topics: ["outcomes"]),
            logger: logger)
        try consumer.subscribe()
        var byDelivery: [String: OutcomeFields] = [:]
        var lastProgress = ContinuousClock.now
        let decoder = JSONDecoder()
        while byDelivery.count < count, deadline.map({ ContinuousClock.now < $0 }) ?? true {
            let batch = try await consumer.poll()
            for message in batch {
                guard let outcome = try? decoder.decode(OutcomeFields.self, from: Data(message.value)),
                    outcome.status != "deferred", byDelivery[outcome.deliveryId] == nil
                else { continue }
                byDelivery[outcome.deliveryId] = outcome
                lastProgress = .now
            }
            if let stopped = workers.first(where: { !$0.isRunning }) {
                await consumer.close()
                throw BenchError("a worker stopped: \(stopped.text(of: .stderr).suffix(1000))")
            }
            if ContinuousClock.now - lastProgress > .seconds(120) {
                await consumer.close()
                let logs = workers.map { String($0.text(of: .stderr).suffix(1500)) }.joined(separator: "\n---\n")
                throw BenchError(
                    "no outcome for two minutes: \(byDelivery.count) of \(count) deliveries have one; worker logs:\n\(logs)"
                )
            }
        }
        await consumer.close()
        return Array(byDelivery.values)
    }

    /// Sends per second the emulator serves to the Bot Connector client: 32 senders, each on its own
    /// conversation, for `seconds`.
    static func rawHTTPRate(_ client: BotConnectorClient, seconds: Int) async throws -> Double {
        let deadline = ContinuousClock.now + .seconds(seconds)
        let start = ContinuousClock.now
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<32 {
                group.addTask {
                    let conversation = try await client.createConversation(
                        serviceUrl: nil, ConversationParameters(target: .user(id: "29:raw-\(index)"), tenantId: "raw"))
                    var sent = 0
                    while ContinuousClock.now < deadline {
                        _ = try await client.sendActivity(
                            serviceUrl: nil, conversationId: conversation.id, .text("load"))
                        sent += 1
                    }
                    return sent
                }
            }
            return try await group.reduce(0, +)
        }
        let (s, atto) = (ContinuousClock.now - start).components
        return Double(total) / (Double(s) + Double(atto) / 1e18)
    }
}

/// CPU time and peak resident memory of a running process, from /proc.
struct ProcessUsage {
    var cpuSeconds = 0.0
    var peakRssBytes = 0
    var rssBytes = 0

    init(pid: Int32) {
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        {
            // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) {
                cpuSeconds = (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
            }
        }
        if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) {
            func kilobytes(_ field: String) -> Int {
                let line = status.split(separator: "\n").first { $0.hasPrefix(field) }
                return (Int(line?.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
            }
            peakRssBytes = kilobytes("VmHWM:")
            rssBytes = kilobytes("VmRSS:")
        }
    }
}
