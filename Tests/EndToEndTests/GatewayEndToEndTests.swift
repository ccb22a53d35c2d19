import ChildProcess
import Foundation
import TeamsEmulator
import Testing

/// The way in: Teams (the emulator, signing with its own keys) tells `herald run --gateway.enabled` where the app
/// was installed; the welcome and the next notification arrive with nothing imported by hand.
extension EndToEnd {
    @Suite("Gateway end to end", .serialized)
    struct GatewayEndToEndTests {
        static let tenant = "4f6a2c1e-8b3d-4e5f-9a7b-1c2d3e4f5a6b"

        @Test func anInstallBringsTheWelcomeAndTheNextNotificationAndAnUninstallStopsThem() async throws {
            let (rig, worker) = try await Self.start()
            defer {
                worker.kill()
                Task { await rig.shutdown() }
            }

            let aad = "0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a"
            let installed = try await rig.emulator.post(
                "install",
                [
                    "scope": "personal", "action": "add", "tenantId": Self.tenant,
                    "user": ["aadObjectId": aad, "name": "Ada Lovelace"], "locale": "en-GB",
                ])
            let statuses = (installed["activities"] as? [[String: Any]] ?? []).map { $0["status"] as? Int }
            #expect(!statuses.isEmpty && statuses.allSatisfy { $0 == 200 }, "\(installed)")
            let chat = try #require(installed["conversationId"] as? String)
            let team = try await rig.emulator.post(
                "install",
                [
                    "scope": "team", "action": "add", "tenantId": Self.tenant,
                    "user": ["aadObjectId": "1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b", "name": "Grace Hopper"],
                    "team": ["id": "19:e2eteam0001@thread.tacv2", "name": "Platform"],
                ])
            let general = try #require(team["conversationId"] as? String)

            // The welcomes: one each, from the interaction events the gateway published.
            let welcomes = try await rig.outcomes(finalCount: 2)
            #expect(
                welcomes.filter(\.isFinal).map(\.summary) == ["delivered", "delivered"], "\(welcomes.map(\.summary))")
            // The reference the gateway captured is in the worker's store: nothing was imported.
            let listed = try await HeraldProcess.run(["references", "list", "--config", rig.configFile.path])
            #expect(listed.stdout.contains("user:aad:\(Self.tenant)/\(aad)"), "\(listed.stdout)")
            #expect(listed.stdout.contains("team:\(Self.tenant)/19:e2eteam0001@thread.tacv2"), "\(listed.stdout)")

            try await rig.publish([
                (
                    aad,
                    DeliveryRig.event(
                        id: "after-install", type: "test.notify", data: ["user": aad, "tenant": Self.tenant, "seq": 1])
                )
            ])
            let afterInstall = try await rig.outcomes(finalCount: 3)
            #expect(afterInstall.filter(\.isFinal).count == 3)
            let conversations = try await rig.emulator.conversations()
            let personal = try #require(conversations.first { $0.id == chat }, "the chat the user installed in")
            #expect(personal.activities.map { Self.text($0.body) } == ["Welcome, Ada Lovelace", "#1 for \(aad)"])
            let channel = try #require(conversations.first { $0.id.hasPrefix(general) }, "a thread in General")
            #expect(channel.activities.map { Self.text($0.body) } == ["Grace Hopper added the app to Platform"])

            // Every gateway metric the dashboard and the alerts use is exported, and counts what happened.
            let httpPort = try await DeliveryRig.httpPort(of: worker)
            let metrics = Metrics(text: try await DeliveryRig.get(port: httpPort, "/metrics").body)
            let used = try EndToEnd.OperationsTests.metricNamesUsedInDeploy().filter { $0.hasPrefix("herald_gateway_") }
            #expect(used.count >= 3, "\(used)")
            #expect(used.filter { !metrics.exports($0) }.isEmpty, "used in deploy/ but not exported")
            let accepted = metrics.samples.filter {
                $0.name == "herald_gateway_requests_total" && $0.labels["result"] == "accepted"
            }
            #expect(accepted.reduce(0) { $0 + $1.value } == 4, "two activities per install")
            #expect(metrics.value("herald_gateway_token_failures_total", ["reason": "signature"]) == 0)

            // The user removes the app: the next notification is not sent.
            _ = try await rig.emulator.post(
                "install",
                [
                    "scope": "personal", "action": "remove", "tenantId": Self.tenant,
                    "user": ["aadObjectId": aad, "name": "Ada Lovelace"],
                ])
            try await rig.publish([
                (
                    aad,
                    DeliveryRig.event(
                        id: "after-uninstall", type: "test.notify",
                        data: ["user": aad, "tenant": Self.tenant, "seq": 2])
                )
            ])
            // Two more: the notification, and the uninstall's own event (no route takes it: `unroutable`).
            let all = try await rig.outcomes(finalCount: 5)
            #expect(all.filter { $0.status == "unroutable" }.count == 1, "\(all.map(\.summary))")
            let last = try #require(all.last { $0.eventId == "after-uninstall" && $0.isFinal })
            #expect(last.status == "suppressed" || last.status == "failed", "\(last.summary)")
            #expect(try await rig.emulator.conversations().first { $0.id == chat }?.activities.count == 2)
            worker.terminate()
            #expect(await worker.exit(timeout: .seconds(40)).status == 0)
            #expect(!worker.text(of: .stderr).contains("eyJ"), "no token in the logs")
        }

        /// "Stop these notifications" pressed on a card: the presser (not whoever the data names) gets no more of
        /// that route, sees the confirmation with Undo, and upstream sees each press as an event.
        @Test func aUserWhoPressesStopGetsNoMoreOfThemUntilUndo() async throws {
            let (rig, worker) = try await Self.start()
            defer {
                worker.kill()
                Task { await rig.shutdown() }
            }
            let aad = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"
            let installed = try await rig.emulator.post(
                "install",
                [
                    "scope": "personal", "action": "add", "tenantId": Self.tenant,
                    "user": ["aadObjectId": aad, "name": "Katherine Johnson"],
                ])
            let chat = try #require(installed["conversationId"] as? String)
            _ = try await rig.outcomes(finalCount: 1)  // the welcome
            func alert(_ seq: Int) -> (String, String) {
                (
                    aad,
                    DeliveryRig.event(
                        id: "alert-\(seq)", type: "test.alert", data: ["user": aad, "tenant": Self.tenant, "seq": seq])
                )
            }
            try await rig.publish([alert(1)])
            _ = try await rig.outcomes(finalCount: 2)
            let card = try #require(
                try await rig.emulator.conversations().first { $0.id == chat }?.activities.last?.id, "the alert's card")

            // The press claims another user in its data; the presser is who Teams says pressed.
            let pressed = try await rig.emulator.post(
                "click",
                [
                    "conversationId": chat, "activityId": card, "verb": "herald.optOut",
                    "data": ["aadObjectId": "99999999-9999-4999-8999-999999999999", "scope": "route"],
                ])
            let answer = try #require(pressed["answer"] as? [String: Any])
            #expect(answer["kind"] as? String == "card", "\(pressed)")
            let confirmation = try #require(pressed["card"] as? [String: Any])
            let undo = ((confirmation["actions"] as? [[String: Any]]) ?? []).first {
                $0["verb"] as? String == "herald.optIn"
            }
            #expect(undo != nil, "the confirmation offers Undo: \(confirmation)")

            let listed = try await HeraldProcess.run(["optout", "list", "--config", rig.configFile.path])
            #expect(listed.stdout.contains(aad) && listed.stdout.contains("alert"), "\(listed.stdout)")
            #expect(!listed.stdout.contains("99999999"), "the data's user is not the actor")

            // The next alert is not sent; every worker reads opt-outs from the store, no restart.
            try await rig.publish([alert(2)])
            let afterOptOut = try await rig.outcomes(finalCount: 4)  // + the optout event (unroutable)
            let second = try #require(afterOptOut.last { $0.eventId == "alert-2" && $0.isFinal })
            #expect(second.summary == "suppressed/OptedOut", "\(afterOptOut.map(\.summary))")

            // Undo: the card comes back and the next alert arrives.
            let undone = try await rig.emulator.post(
                "click", ["conversationId": chat, "activityId": card, "verb": "herald.optIn"])
            let restored = try #require(undone["card"] as? [String: Any])
            #expect(((restored["body"] as? [[String: Any]])?.first?["text"] as? String) == "Alert #1", "\(undone)")
            try await rig.publish([alert(3)])
            let afterUndo = try await rig.outcomes(finalCount: 6)
            #expect(afterUndo.last { $0.eventId == "alert-3" && $0.isFinal }?.summary == "delivered")

            // Acknowledge on the new card: who and when, on the card.
            let third = try #require(
                try await rig.emulator.conversations().first { $0.id == chat }?.activities.last?.id)
            let acked = try await rig.emulator.post(
                "click", ["conversationId": chat, "activityId": third, "verb": "herald.ack"])
            let ackCard = try #require(acked["card"] as? [String: Any])
            let texts = ((ackCard["body"] as? [[String: Any]]) ?? []).compactMap { $0["text"] as? String }
            #expect(texts.first == "Alert #3" && texts.last?.hasPrefix("Acknowledged by Katherine Johnson at ") == true)

            // Upstream saw every press, from the presser.
            let interactions = try await rig.read(rig.interactionsTopic, timeout: .seconds(60)) { messages in
                messages.count >= 4
            }
            let events = interactions.compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.value)) as? [String: Any]
            }
            let types = events.compactMap { $0["type"] as? String }.filter {
                $0.hasPrefix("herald.teams.o") || $0.hasSuffix("acknowledged")
            }
            #expect(types == ["herald.teams.optout", "herald.teams.optin", "herald.teams.acknowledged"], "\(types)")
            #expect(
                events.filter { ($0["type"] as? String)?.hasPrefix("herald.teams.o") == true }.allSatisfy {
                    $0["subject"] as? String == aad
                })
            worker.terminate()
            #expect(await worker.exit(timeout: .seconds(40)).status == 0)
        }

        /// Teams sends an activity again when the bot's answer is lost: the same install event, one welcome.
        @Test func anInstallTeamsSendsTwiceWelcomesOnce() async throws {
            let (rig, worker) = try await Self.start()
            defer {
                worker.kill()
                Task { await rig.shutdown() }
            }
            let aad = "2a3b4c5d-6e7f-4809-9a1b-2c3d4e5f6a7b"
            // The user's chat exists (a first install), then one more install activity arrives twice.
            let installed = try await rig.emulator.post(
                "install",
                [
                    "scope": "personal", "action": "add", "tenantId": Self.tenant,
                    "user": ["aadObjectId": aad, "name": "Mary Jackson"],
                ])
            let chat = try #require(installed["conversationId"] as? String)
            let again: [String: Any] = [
                "type": "installationUpdate", "action": "add", "id": "f:sent-twice",
                "timestamp": "2026-12-02T11:00:00.000Z", "serviceUrl": rig.emulator.serviceUrl, "channelId": "msteams",
                "from": ["id": "29:1\(aad)", "aadObjectId": aad, "name": "Mary Jackson"],
                "recipient": ["id": "28:\(DeliveryRig.appId)", "name": "Herald"],
                "conversation": ["id": chat, "conversationType": "personal", "tenantId": Self.tenant],
                "channelData": ["tenant": ["id": Self.tenant]],
            ]
            for _ in 0..<2 {
                let posted = try await rig.emulator.post("activity", ["activity": again])
                #expect((posted["activities"] as? [[String: Any]])?.first?["status"] as? Int == 200, "\(posted)")
            }
            // Two install events, three records: the second record of the same event is a duplicate.
            let messages = try await rig.read(rig.outcomesTopic, timeout: .seconds(120)) { messages in
                messages.compactMap { try? Outcome.decode($0.value) }.contains { $0.error?.code == "Duplicate" }
            }
            let outcomes = try messages.map { try Outcome.decode($0.value) }
            #expect(
                outcomes.filter(\.isFinal).map(\.summary) == ["delivered", "delivered"], "\(outcomes.map(\.summary))")
            let conversation = try #require(try await rig.emulator.conversations().first { $0.id == chat })
            #expect(
                conversation.activities.map { Self.text($0.body) } == [
                    "Welcome, Mary Jackson", "Welcome, Mary Jackson",
                ])
        }

        @Test func aGatewayThatCannotListenStopsHeraldRunWithAClearError() async throws {
            let rig = try await DeliveryRig(
                emulator: EmulatorConfiguration(appId: DeliveryRig.appId, appPassword: DeliveryRig.appPassword),
                gateway: true)
            defer { Task { await rig.shutdown() } }
            let taken = try SilentListener()
            defer { taken.close() }
            let config = try String(contentsOf: rig.configFile, encoding: .utf8)
            let moved = config.replacingOccurrences(
                of: "  enabled: true\n  host: 127.0.0.1\n  port: 0",
                with: "  enabled: true\n  host: 127.0.0.1\n  port: \(taken.port)")
            #expect(moved != config)
            try moved.write(to: rig.configFile, atomically: true, encoding: .utf8)
            let result = try await HeraldProcess.run(["run", "--config", rig.configFile.path], timeout: .seconds(90))
            #expect(result.status != 0, "half a deployment does not keep running")
            #expect(result.stderr.contains("the gateway stopped"), "\(result.stderr.suffix(2000))")
        }

        /// A rig with `herald run` serving the gateway, and the emulator posting to it.
        static func start() async throws -> (DeliveryRig, ChildProcess) {
            let rig = try await DeliveryRig(
                emulator: EmulatorConfiguration(appId: DeliveryRig.appId, appPassword: DeliveryRig.appPassword),
                gateway: true)
            do {
                let worker = try await rig.startWorker()
                do {
                    let port = try await DeliveryRig.gatewayPort(of: worker)
                    _ = try await rig.emulator.post("config", ["botEndpoint": "http://127.0.0.1:\(port)/api/messages"])
                    return (rig, worker)
                } catch {
                    worker.kill()
                    throw error
                }
            } catch {
                await rig.shutdown()
                throw error
            }
        }

        static func text(_ body: [UInt8]?) -> String {
            guard let body, let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                return ""
            }
            return object["text"] as? String ?? ""
        }
    }
}
