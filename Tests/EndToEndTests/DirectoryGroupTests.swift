import ChildProcess
import Foundation
import TeamsEmulator
import TestSupport
import Testing

/// Groups built for size: tens of thousands of members streamed page by page, each person once, a killed worker
/// resuming without a second message to anyone.
extension EndToEnd {
    @Suite("Directory groups end to end", .serialized)
    struct DirectoryGroupTests {
        typealias Directory = DirectoryRecipientTests

        /// A group of `size` users (`u0`...) over a top group and two nested ones that overlap it and each other,
        /// listed once per path (`groupsRepeatMembers`); the first `disabled` users' accounts are disabled.
        static func emulator(size: Int, disabled: Int, latencyMs: Int = 0) -> EmulatorConfiguration {
            var emulator = EmulatorConfiguration(appId: DeliveryRig.appId, appPassword: DeliveryRig.appPassword)
            emulator.limits = .off
            emulator.latency = .milliseconds(latencyMs)
            emulator.maxRecordedBodies = 0
            let half = size / 2, threeQuarters = size * 3 / 4
            let overlap = max(1, size / 40)
            emulator.directoryGroups = [
                "all": .init(users: (0..<half).map { "u\($0)" }, groups: ["n1"]),
                "n1": .init(
                    users: (half..<threeQuarters).map { "u\($0)" } + (0..<overlap).map { "u\($0)" }, groups: ["n2"]),
                "n2": .init(
                    users: (threeQuarters..<size).map { "u\($0)" } + (half..<(half + overlap)).map { "u\($0)" }),
            ]
            emulator.groupsRepeatMembers = true
            emulator.directoryUsers =
                (0..<disabled).map {
                    .init(id: "u\($0)", userPrincipalName: "u\($0)@contoso.com", accountEnabled: false)
                } + [.init(id: "u\(size - 1)", userPrincipalName: "last@contoso.com", mail: "last@contoso.com")]
            return emulator
        }

        /// The user's object id in a person's delivery id (`...|user:aad:t/<id>`).
        static func person(_ outcome: Outcome) -> String? {
            guard let range = outcome.deliveryId.range(of: "user:aad:t/") else { return nil }
            return String(outcome.deliveryId[range.upperBound...])
        }

        /// Peak resident memory of a running process (`VmHWM`), in MiB.
        static func peakRSS(_ pid: Int32) -> Double? {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kB = Double(line.split(whereSeparator: \.isWhitespace).dropFirst().first ?? "")
            else { return nil }
            return kB / 1024
        }

        @Test func aGroupOfTwentyThousandReachesEveryEnabledMemberExactlyOnce() async throws {
            let size = 20_000, disabled = 50
            let rig = try await DeliveryRig(
                emulator: Self.emulator(size: size, disabled: disabled), delivery: Directory.unpaced,
                bot: Directory.bot, routes: Directory.routes)
            defer { Task { await rig.shutdown() } }
            // The last member is also named by email in the same route: one message all the same.
            try await rig.publish([
                Directory.event("big", "test.group", ["group": "all", "also": "last@contoso.com", "seq": 1])
            ])
            let started = ContinuousClock.now
            let worker = try await rig.startWorker()
            defer { worker.kill() }
            let outcomes = try await rig.outcomes(finalCount: size - disabled, timeout: .seconds(600))
            let elapsed = ContinuousClock.now - started
            // The last member's outcome may come from the group before the delivery by email has looked the
            // address up (it then finds that outcome in the ledger): the record is done once it is committed.
            try await eventually(within: .seconds(60), "the event's record committed") {
                try await rig.committedRecords() >= 1
            }
            let committed = try await rig.committedRecords()
            let rss = Self.peakRSS(worker.processIdentifier)
            let stats = try await rig.emulator.stats()

            let final = outcomes.filter(\.isFinal)
            let people = final.compactMap(Self.person)
            #expect(committed == 1, "the event's record is done and committed")
            #expect(final.count == size - disabled, "one outcome per enabled member")
            #expect(Set(people).count == size - disabled, "each enabled member once")
            #expect(final.allSatisfy { $0.status == "delivered" })
            #expect(!people.contains("u0"), "a disabled account gets nothing")
            #expect(stats.activitiesSent == size - disabled, "one message per person, none twice")
            let listed: Int = size + 2 * max(1, size / 40)
            let pages: Int = (listed + 998) / 999
            #expect(stats.directoryReads == pages + 1, "every page once, and one lookup for the email")
            print(
                """
                directory group: \(size) members (\(listed) listed, \(disabled) disabled) in \(pages) Graph pages, \
                \(stats.directoryReads) Graph directory reads, \(stats.activitiesSent) messages in \(elapsed); \
                worker peak RSS \(rss.map { String(format: "%.0f MiB", $0) } ?? "unknown")
                """)
        }

        @Test func aWorkerKilledInTheMiddleOfAGroupResumesWithoutASecondMessageToAnyone() async throws {
            let size = 3_000, disabled = 10
            let rig = try await DeliveryRig(
                emulator: Self.emulator(size: size, disabled: disabled, latencyMs: 3), delivery: Directory.unpaced,
                bot: Directory.bot, routes: Directory.routes)
            defer { Task { await rig.shutdown() } }
            try await rig.publish([
                Directory.event("big", "test.group", ["group": "all", "also": "last@contoso.com", "seq": 1])
            ])
            let first = try await rig.startWorker()
            let deadline = ContinuousClock.now + .seconds(120)
            while try await rig.emulator.stats().activitiesSent < size / 4, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            first.kill()
            _ = await first.exit(timeout: .seconds(10))
            let sentBeforeKill = try await rig.emulator.stats().activitiesSent
            #expect(sentBeforeKill < size - disabled, "the worker was killed mid-group (\(sentBeforeKill) sent)")

            let second = try await rig.startWorker()
            defer { second.kill() }
            let outcomes = try await rig.outcomes(finalCount: size - disabled, timeout: .seconds(300))
            // A worker killed between publishing an outcome and recording that it did publishes it again: the
            // same outcome twice, never two different ones.
            rig.expectNoContradiction(outcomes)
            let final = Array(outcomes.finalByDelivery.compactMapValues(\.first).values)
            let people = Set(final.compactMap(Self.person))
            #expect(final.count == size - disabled, "one final outcome per enabled member")
            #expect(people.count == size - disabled, "every enabled member has an outcome")

            let conversations = try await rig.emulator.conversations()
            var messages: [String: Int] = [:]
            for conversation in conversations {
                if let user = conversation.userId { messages[user, default: 0] += conversation.activities.count }
            }
            #expect(messages.values.allSatisfy { $0 <= 1 }, "nobody got a second message")
            // A request cut off by the kill is not sent again (delivery.onUncertain: fail): its outcome says so.
            let uncertain = final.filter { $0.error?.code == "DeliveryUncertain" }
            // At most the deliveries in flight at the kill: the fan-out's 16 and the email-named member's. Each was
            // on the wire or answered but not yet recorded; neither is sent again.
            #expect(uncertain.count <= 17, "only deliveries in flight at the kill: \(uncertain.count)")
            for outcome in final where outcome.status == "delivered" {
                #expect(messages["29:1\(Self.person(outcome) ?? "")"] == 1, "delivered means in the chat")
            }
            let delivered = final.filter { $0.status == "delivered" }.count
            #expect(delivered + uncertain.count == size - disabled, "everyone else delivered")
        }
    }
}
