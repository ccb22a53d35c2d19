import ChildProcess
import Foundation
import TeamsEmulator
import Testing

/// People named by email or UPN, Entra ID groups and channels by name, through `herald run` and the emulator's
/// Microsoft Graph: resolved, cached, delivered once per person, and every failure with its own code.
extension EndToEnd {
    @Suite("Directory recipients end to end", .serialized)
    struct DirectoryRecipientTests {
        static let tenant = "t"
        static let routes = """
            routes:
              - name: by-email
                match: { type: "test.email" }
                to:
                  - user: { email: "${data.email}", tenantId: "${data.tenant}" }
                message:
                  text: "email #${data.seq}"
              - name: by-upn
                match: { type: "test.upn" }
                to:
                  - user: { upn: "${data.upn}", tenantId: "${data.tenant}" }
                message:
                  text: "upn #${data.seq}"
              - name: to-group
                match: { type: "test.group" }
                to:
                  - group: { id: "${data.group}", tenantId: "${data.tenant}" }
                  - user: { email: "${data.also}", tenantId: "${data.tenant}" }
                message:
                  text: "group #${data.seq}"
              - name: to-channel
                match: { type: "test.channel" }
                to:
                  - channel: { teamId: "${data.team}", channelName: "${data.channel}", tenantId: "${data.tenant}" }
                message:
                  text: "channel #${data.seq}"
            """
        static let teamsAppId = "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
        static let bot = """
            proactiveInstall: true
            teamsAppId: "\(teamsAppId)"
            graphUrl: "$ORIGIN/graph"
            loginUrl: "$ORIGIN"
            """
        /// No Teams pacing in the worker: these tests are about who gets what, and the emulator's limits are off.
        static let unpaced = """
            rateLimits:
              perTenantPerSecond: 100000
              perConversation:
                - { count: 100000, seconds: 1 }
            """

        static func event(_ id: String, _ type: String, _ data: [String: Any]) -> (key: String, value: String) {
            (id, DeliveryRig.event(id: id, type: type, data: data.merging(["tenant": tenant]) { a, _ in a }))
        }

        /// Outcomes by event id: each final outcome's summary, sorted.
        static func byEvent(_ outcomes: [Outcome]) -> [String: [String]] {
            Dictionary(grouping: outcomes.filter(\.isFinal), by: \.eventId).mapValues { $0.map(\.summary).sorted() }
        }

        /// The emulator's 1:1 chat with the user whose Entra object id is `aad` (it names the user `29:1<aad>`).
        static func chat(
            of aad: String, in conversations: [EmulatorProcess.Conversation]
        ) -> EmulatorProcess
            .Conversation?
        {
            conversations.first { !$0.isGroup && $0.userId == "29:1\(aad)" }
        }

        static func texts(_ conversation: EmulatorProcess.Conversation?) -> [String] {
            (conversation?.activities ?? []).compactMap { activity in
                activity.body.flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }?["text"]
                    as? String
            }
        }

        @Test func eachDirectoryRecipientFormIsDeliveredAndEveryFailureHasItsOwnCode() async throws {
            var emulator = EmulatorConfiguration(appId: DeliveryRig.appId, appPassword: DeliveryRig.appPassword)
            emulator.limits = .off
            emulator.maxRecordedBodies = 10_000
            emulator.directoryUsers = [
                .init(
                    id: "ada-id", userPrincipalName: "ada@contoso.com", mail: "ada.lovelace@contoso.com",
                    proxyAddresses: ["SMTP:ada.lovelace@contoso.com", "smtp:ada@fabrikam.com"]),
                .init(id: "grace-id", userPrincipalName: "grace@contoso.com", mail: "grace@contoso.com"),
                .init(id: "left-id", userPrincipalName: "left@contoso.com", accountEnabled: false),
                .init(id: "obrien-id", userPrincipalName: "obrien@contoso.com", mail: "o'brien@contoso.com"),
                .init(id: "pct-id", userPrincipalName: "pct@contoso.com", mail: "a%27b@contoso.com"),
            ]
            emulator.directoryGroups = [
                "g-eng": .init(users: ["ada-id", "grace-id", "left-id"], groups: ["g-ops"]),
                "g-ops": .init(users: ["ada-id", "hopper-id"]),
            ]
            emulator.groupsRepeatMembers = true
            // A member of the group who never installed the app: Herald installs it for them, then sends.
            emulator.notInstalled = ["hopper-id"]
            emulator.teamsAppId = Self.teamsAppId
            emulator.directoryConsentMissing = ["t-nogroups": ["GroupMember.Read.All"]]
            emulator.teams = ["team-1": [.init(id: "29:m1", aadObjectId: "m1")]]
            emulator.teamChannels = [
                "team-1": [.init(id: "team-1", name: nil), .init(id: "19:inc@thread.tacv2", name: "Incidents")]
            ]
            let rig = try await DeliveryRig(
                emulator: emulator, delivery: Self.unpaced, bot: Self.bot, routes: Self.routes)
            defer { Task { await rig.shutdown() } }

            let hostile = "x@contoso.com' or mail eq 'o''brien@contoso.com"
            try await rig.publish([
                Self.event("mail", "test.email", ["email": "ada.lovelace@contoso.com", "seq": 1]),
                Self.event("proxy", "test.email", ["email": "ADA@fabrikam.com", "seq": 2]),
                Self.event("upn-1", "test.upn", ["upn": "grace@contoso.com", "seq": 3]),
                Self.event("nobody-1", "test.email", ["email": "nobody@contoso.com", "seq": 5]),
                Self.event("disabled", "test.upn", ["upn": "left@contoso.com", "seq": 7]),
                Self.event("hostile", "test.email", ["email": hostile, "seq": 8]),
                Self.event("percent", "test.email", ["email": "a%27b@contoso.com", "seq": 9]),
                Self.event("group", "test.group", ["group": "g-eng", "also": "ada.lovelace@contoso.com", "seq": 10]),
                Self.event("no-group", "test.group", ["group": "g-missing", "also": "grace@contoso.com", "seq": 11]),
                Self.event("channel", "test.channel", ["team": "team-1", "channel": "incidents", "seq": 12]),
                Self.event("no-channel", "test.channel", ["team": "team-1", "channel": "Nope", "seq": 13]),
                Self.event(
                    "no-consent", "test.group",
                    ["group": "g-eng", "also": "grace@contoso.com", "tenant": "t-nogroups", "seq": 14]),
            ])
            let worker = try await rig.startWorker()
            defer { worker.kill() }
            var outcomes = try await rig.outcomes(finalCount: 16, timeout: .seconds(60))
            let readsBefore = try await rig.emulator.stats().directoryReads

            // The same people and the same miss again: answered from the directory cache.
            try await rig.publish([
                Self.event("upn-2", "test.upn", ["upn": "GRACE@contoso.com", "seq": 4]),
                Self.event("nobody-2", "test.email", ["email": "nobody@contoso.com", "seq": 6]),
                Self.event("mail-again", "test.email", ["email": "ada.lovelace@contoso.com", "seq": 15]),
            ])
            outcomes = try await rig.outcomes(finalCount: 19, timeout: .seconds(60))
            let stats = try await rig.emulator.stats()
            #expect(stats.directoryReads == readsBefore, "cached answers and a cached miss ask Graph nothing")

            let byEvent = Self.byEvent(outcomes)
            #expect(byEvent["mail"] == ["delivered"])
            #expect(byEvent["proxy"] == ["delivered"], "a proxy address finds the user, whatever its case")
            #expect(byEvent["upn-1"] == ["delivered"])
            #expect(byEvent["upn-2"] == ["delivered"])
            #expect(byEvent["mail-again"] == ["delivered"])
            #expect(byEvent["nobody-1"] == ["failed/RecipientNotFound"])
            #expect(byEvent["nobody-2"] == ["failed/RecipientNotFound"])
            #expect(byEvent["disabled"] == ["failed/RecipientDisabled"])
            #expect(
                byEvent["hostile"] == ["failed/RecipientNotFound"], "a quote in an address cannot add to the filter")
            #expect(byEvent["percent"] == ["delivered"], "a % in an address is sent as itself")
            #expect(
                byEvent["group"] == ["delivered", "delivered", "delivered"],
                "ada (twice in the group, and named by email), grace and hopper: one each; the disabled member none")
            #expect(byEvent["no-group"] == ["delivered", "failed/GroupNotFound"])
            #expect(byEvent["channel"] == ["delivered"])
            #expect(byEvent["no-channel"] == ["failed/ChannelNotFound"])
            #expect(byEvent["no-consent"] == ["delivered", "failed/DirectoryConsentMissing"])

            let conversations = try await rig.emulator.conversations()
            let adaTexts = Self.texts(Self.chat(of: "ada-id", in: conversations))
            #expect(
                Set(adaTexts) == ["email #1", "email #2", "group #10", "email #15"],
                "one chat with ada, and one message per event: \(adaTexts)")
            #expect(Self.texts(Self.chat(of: "ada-id", in: conversations)).count == 4)
            #expect(Self.texts(Self.chat(of: "hopper-id", in: conversations)) == ["group #10"])
            let hopper = outcomes.filter { $0.eventId == "group" && $0.deliveryId.contains("hopper-id") && $0.isFinal }
            #expect(
                hopper.map(\.installedApp) == [true], "the member who never installed got the app installed once")
            #expect(Self.chat(of: "left-id", in: conversations) == nil, "a disabled account gets nothing")
            #expect(Self.chat(of: "obrien-id", in: conversations) == nil, "the hostile address reached nobody")
            #expect(Self.texts(Self.chat(of: "pct-id", in: conversations)) == ["email #9"])
            let thread = outcomes.first { $0.eventId == "channel" }
            #expect(thread?.conversationId?.hasPrefix("19:inc@thread.tacv2;messageid=") == true)
            let noConsent = outcomes.first { $0.eventId == "no-consent" && $0.status == "failed" }
            #expect(noConsent?.message?.contains("GroupMember.Read.All") == true, "the missing permission is named")
            let ada = outcomes.filter { $0.route == "by-email" && $0.deliveryId.contains("user:aad:t/ada-id") }
            #expect(ada.count == 3, "a person's deliveries use the identity they resolve to")

            // What an operator sees asking why someone did or did not get it.
            func lookup(_ arguments: [String], tenant: String = Self.tenant) async throws -> ChildProcess.Output {
                try await HeraldProcess.run(
                    ["directory", "lookup", "--config", rig.configFile.path, "--tenant", tenant] + arguments)
            }
            let cached = try await lookup(["--email", "ADA.lovelace@contoso.com"])
            #expect(cached.status == 0)
            #expect(cached.stdout.contains("aadObjectId ada-id, enabled, from the directory cache"), "\(cached.stdout)")
            let fresh = try await lookup(["--upn", "grace@contoso.com", "--no-cache"])
            #expect(fresh.stdout.contains("aadObjectId grace-id, enabled, from Graph"), "\(fresh.stdout)")
            let missing = try await lookup(["--email", "nobody@contoso.com"])
            #expect(missing.status == 1)
            #expect(
                missing.stdout.contains("nobody (RecipientNotFound), from the directory cache"), "\(missing.stdout)")
            let disabledLookup = try await lookup(["--upn", "left@contoso.com"])
            #expect(disabledLookup.status == 1)
            #expect(disabledLookup.stdout.contains("disabled (RecipientDisabled)"), "\(disabledLookup.stdout)")
            let group = try await lookup(["--group", "g-eng"])
            #expect(group.stdout.contains("4 users, 3 enabled, 1 disabled, 1 page from Graph"), "\(group.stdout)")
            let refused = try await lookup(["--group", "g-eng"], tenant: "t-nogroups")
            #expect(refused.status == 2)
            #expect(
                refused.stdout.contains("DirectoryConsentMissing") && refused.stdout.contains("GroupMember.Read.All"))
        }

        @Test func aGraphThrottlingStormSlowsLookupsDownAndLosesNobody() async throws {
            var emulator = EmulatorConfiguration(appId: DeliveryRig.appId, appPassword: DeliveryRig.appPassword)
            emulator.limits = .off
            emulator.faults.graph429 = 0.4
            emulator.directoryUsers = (0..<20).map {
                .init(id: "u\($0)", userPrincipalName: "u\($0)@contoso.com", mail: "u\($0)@contoso.com")
            }
            emulator.directoryGroups = ["g": .init(users: (20..<60).map { "u\($0)" })]
            let rig = try await DeliveryRig(
                emulator: emulator, delivery: Self.unpaced, bot: Self.bot, routes: Self.routes,
                extraConfig: "directory:\n  perTenantPerSecond: 1000")
            defer { Task { await rig.shutdown() } }
            try await rig.publish(
                (0..<20).map { Self.event("e\($0)", "test.email", ["email": "u\($0)@contoso.com", "seq": $0]) }
                    + [Self.event("g", "test.group", ["group": "g", "also": "u0@contoso.com", "seq": 99])])
            let worker = try await rig.startWorker()
            defer { worker.kill() }
            let outcomes = try await rig.outcomes(finalCount: 61, timeout: .seconds(120))
            let final = outcomes.filter(\.isFinal)
            #expect(final.count == 61)
            #expect(
                final.allSatisfy { $0.status == "delivered" },
                "\(Self.byEvent(outcomes).filter { $0.value != ["delivered"] })")
            let stats = try await rig.emulator.stats()
            #expect(stats.graphThrottled > 0, "the storm happened")
        }
    }
}
