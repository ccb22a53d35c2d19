import BotConnector
import Foundation
import Gateway
import GatewayTestSupport
import Kafka
import Store
import TeamsEmulator
import TestSupport
import Testing

@Suite("Gateway: activities from Teams")
struct ActivityTests {
    @Test func aPersonalInstallPublishesTheReferenceAndAnInstalledEventOnceWhateverTheRetries() async throws {
        try await GatewayRig.with { rig in
            let aad = "6F1C2D3E-0000-4000-8000-0000000000A1"
            let install = rig.personalInstall(aad, id: "f:install-1")
            #expect(try await rig.post(install) == 200)
            #expect(try await rig.post(install) == 200, "the Bot Connector's retry")
            let records = try await rig.records(["refs", "interactions"], atLeast: 4)
            let references = records.filter { $0.topic == "refs" }
            let events = records.filter { $0.topic == "interactions" }
            #expect(references.count == 2 && events.count == 2)
            let key = "user:aad:\(GatewayRig.tenant)/\(aad.lowercased())"
            #expect(references.allSatisfy { $0.key == Array(key.utf8) })
            // What `herald references import` and every worker's ingestor read.
            let stored = try BotFrameworkReference.parse(String(decoding: references[0].value, as: UTF8.self))
            #expect(stored.key == key)
            #expect(stored.scope == .personal && stored.conversationId == "a:1\(aad)")
            #expect(stored.serviceUrl == rig.emulator.serviceUrl && stored.tenantId == GatewayRig.tenant)
            #expect(stored.aadObjectId == aad.lowercased() && stored.botId == "28:app")
            #expect(stored.locale == "en-GB", "the user's Teams locale picks their language in message.locales")
            let event = object(events[0])
            #expect(event["specversion"] as? String == "1.0")
            #expect(event["type"] as? String == "herald.teams.app.installed")
            #expect(event["source"] as? String == "/teams/\(GatewayRig.tenant)")
            #expect(event["subject"] as? String == aad.lowercased())
            #expect(event["time"] as? String == "2026-12-02T10:00:00.123Z")
            #expect(object(events[1])["id"] as? String == event["id"] as? String, "a retry is the same event")
            let data = try #require(event["data"] as? [String: Any])
            #expect(data["scope"] as? String == "personal")
            #expect(data["referenceKey"] as? String == key)
            #expect(data["locale"] as? String == "en-GB" && data["timeZone"] as? String == "Europe/London")
            #expect((data["user"] as? [String: Any])?["name"] as? String == "Ada Lovelace")
            #expect((data["conversation"] as? [String: Any])?["type"] as? String == "personal")
            let validation = try await SchemaValidator.run(events.map { ("interaction-event.schema.json", $0.value) })
            #expect(validation.exitCode == 0, "\(validation.output)")
        }
    }

    @Test func aTeamInstallPublishesTheTeamReferenceAndUninstallForgetsIt() async throws {
        try await GatewayRig.with { rig in
            let team = "19:platform0000@thread.tacv2"
            #expect(try await rig.post(rig.teamInstall(team, by: "6f1c2d3e-0000-4000-8000-0000000000b1")) == 200)
            #expect(
                try await rig.post(
                    rig.teamInstall(team, by: "6f1c2d3e-0000-4000-8000-0000000000b1", action: "remove")) == 200)
            let records = try await rig.records(["refs", "interactions"], atLeast: 4)
            let key = Array("team:\(GatewayRig.tenant)/\(team)".utf8)
            let references = records.filter { $0.topic == "refs" }
            #expect(references.count == 2 && references.allSatisfy { $0.key == key })
            let stored = try BotFrameworkReference.parse(String(decoding: references[0].value, as: UTF8.self))
            #expect(stored.scope == .channel && stored.teamId == team && stored.channelId == team)
            #expect(references[1].value.isEmpty, "the uninstall is a tombstone")
            let types = records.filter { $0.topic == "interactions" }.map { object($0)["type"] as? String }
            #expect(types == ["herald.teams.app.installed", "herald.teams.app.uninstalled"])
            let installed = try #require(
                object(records.first { $0.topic == "interactions" }!)["data"] as? [String: Any])
            #expect((installed["team"] as? [String: Any])?["name"] as? String == "Platform")
            #expect((installed["channel"] as? [String: Any])?["id"] as? String == team)
            #expect((installed["user"] as? [String: Any])?["name"] as? String == "Grace Hopper", "who added it")
        }
    }

    @Test func aMessageInAnotherChannelKeepsTheTeamReferenceOnItsGeneralChannel() async throws {
        try await GatewayRig.with { rig in
            let team = "19:platform0002@thread.tacv2"
            var message = rig.teamInstall(team, by: "6f1c2d3e-0000-4000-8000-0000000000b2")
            message["type"] = "message"
            message["action"] = nil
            message["text"] = "<at>Herald</at> hello"
            message["conversation"] = [
                "id": "19:releases@thread.tacv2;messageid=1701", "conversationType": "channel",
                "tenantId": GatewayRig.tenant, "isGroup": true,
            ]
            message["channelData"] = [
                "tenant": ["id": GatewayRig.tenant], "team": ["id": team, "name": "Platform"],
                "channel": ["id": "19:releases@thread.tacv2", "name": "Releases"],
            ]
            #expect(try await rig.post(message) == 200)
            let records = try await rig.records(["refs", "interactions"], atLeast: 2)
            let reference = try #require(records.first { $0.topic == "refs" })
            #expect(reference.key == Array("team:\(GatewayRig.tenant)/\(team)".utf8))
            let stored = try BotFrameworkReference.parse(String(decoding: reference.value, as: UTF8.self))
            #expect(stored.conversationId == team && stored.channelId == team, "General, not the thread it came from")
            let event = try #require(records.first { $0.topic == "interactions" }.map(object))
            let data = try #require(event["data"] as? [String: Any])
            #expect((data["channel"] as? [String: Any])?["name"] as? String == "Releases")
            #expect(
                (data["conversation"] as? [String: Any])?["id"] as? String == "19:releases@thread.tacv2;messageid=1701")
        }
    }

    @Test func aPersonalUninstallMarksTheChatBlockedAndAReinstallClearsIt() async throws {
        try await GatewayRig.with { rig in
            let aad = "6f1c2d3e-0000-4000-8000-0000000000c1"
            let key = "user:aad:\(GatewayRig.tenant)/\(aad)"
            try await rig.store.upsertReferences([
                ConversationReference(
                    key: key, conversationId: "a:1\(aad)", serviceUrl: rig.emulator.serviceUrl,
                    tenantId: GatewayRig.tenant, aadObjectId: aad, scope: .personal)
            ])
            #expect(try await rig.post(rig.personalInstall(aad, action: "remove")) == 200)
            let blocked = try await rig.store.reference(key: key)
            #expect(blocked?.blockedAt != nil && blocked?.blockCode == "AppUninstalled")
            #expect(try await rig.post(rig.personalInstall(aad, action: "add")) == 200)
            #expect(try await rig.store.reference(key: key)?.blockedAt == nil)
            let events = try await rig.records(["interactions"], atLeast: 2)
            #expect(
                events.map { object($0)["type"] as? String } == [
                    "herald.teams.app.uninstalled", "herald.teams.app.installed",
                ])
        }
    }

    @Test func membersJoiningATeamAreOneEventEachAndAMessageIsAnsweredOnce() async throws {
        try await GatewayRig.with { rig in
            let team = "19:platform0001@thread.tacv2"
            var joined = rig.teamInstall(team, by: "6f1c2d3e-0000-4000-8000-0000000000d0")
            joined["type"] = "conversationUpdate"
            joined["action"] = nil
            joined["membersAdded"] = [
                rig.account("6f1c2d3e-0000-4000-8000-0000000000d1", name: "Katherine Johnson"),
                rig.account("6f1c2d3e-0000-4000-8000-0000000000d2", name: "Dorothy Vaughan"),
            ]
            var channelData = joined["channelData"] as! [String: Any]
            channelData["eventType"] = "teamMemberAdded"
            joined["channelData"] = channelData
            #expect(try await rig.post(joined) == 200)

            // The user's 1:1 chat exists in Teams (the emulator) before they write in it.
            let aad = "6f1c2d3e-0000-4000-8000-0000000000d3"
            let teams = BotConnectorClient(
                configuration: .init(
                    appId: "app", appPassword: "secret", tokenURL: rig.emulator.tokenURL,
                    defaultServiceUrl: rig.emulator.serviceUrl, allowedServiceHosts: [rig.emulator.origin]),
                logger: logger)
            let chat = try await teams.createConversation(
                serviceUrl: nil, ConversationParameters(target: .user(id: "29:1\(aad)"), tenantId: GatewayRig.tenant))
            try await teams.shutdown()
            var message = rig.personalInstall(aad)
            message["type"] = "message"
            message["action"] = nil
            message["text"] = "hello?"
            message["conversation"] = ["id": chat.id, "conversationType": "personal", "tenantId": GatewayRig.tenant]
            #expect(try await rig.post(message) == 200)

            let records = try await rig.records(["interactions"], atLeast: 3)
            let validation = try await SchemaValidator.run(records.map { ("interaction-event.schema.json", $0.value) })
            #expect(validation.exitCode == 0, "\(validation.output)")
            let events = records.map(object)
            let added = events.filter { $0["type"] as? String == "herald.teams.members.added" }
            #expect(added.count == 2)
            #expect(Set(added.compactMap { $0["subject"] as? String }).count == 2)
            #expect(Set(added.compactMap { $0["id"] as? String }).count == 2, "one id per member")
            let said = try #require(events.first { $0["type"] as? String == "herald.teams.message" })
            #expect((said["data"] as? [String: Any])?["text"] as? String == "hello?")
            // The configured reply went back to the user's chat through the Bot Connector.
            let replies = try #require(rig.emulator.conversation(chat.id)).activities
            #expect(replies.count == 1)
            let reply = String(decoding: replies.first?.body ?? [], as: UTF8.self)
            #expect(reply.contains("does not read messages"))
        }
    }

    @Test func hostileRequestsGetClearStatusesAndRecordNothing() async throws {
        try await GatewayRig.with { rig in
            let valid = "Bearer \(rig.emulator.botToken(.valid, serviceUrl: rig.emulator.serviceUrl))"
            #expect(try await rig.post(Array("{not json".utf8), authorization: valid).status == 400)
            #expect(try await rig.post(Array("[1,2]".utf8), authorization: valid).status == 400)
            let deep = String(repeating: "{\"a\":", count: 5000) + "1" + String(repeating: "}", count: 5000)
            #expect(try await rig.post(Array(deep.utf8), authorization: valid).status == 400)
            let huge = GatewayRig.json(["type": "message", "text": String(repeating: "x", count: 70_000)])
            #expect(try await rig.post(huge, authorization: valid).status == 413)
            let install = GatewayRig.json(rig.personalInstall("6f1c2d3e-0000-4000-8000-0000000000e1"))
            #expect(try await rig.post(install, authorization: valid, contentType: "text/plain").status == 415)
            #expect(try await rig.post(install, authorization: valid, method: .GET).status == 405)
            #expect(try await rig.post(Array("{}".utf8), authorization: valid).status == 401, "no serviceUrl to match")
            // Well signed, but from a service URL Herald may never call: answered, not recorded.
            var elsewhere = rig.personalInstall("6f1c2d3e-0000-4000-8000-0000000000e2")
            elsewhere["serviceUrl"] = "https://smba.evil.example/teams/"
            #expect(try await rig.post(elsewhere) == 200)
            var unknown = rig.personalInstall("6f1c2d3e-0000-4000-8000-0000000000e3")
            unknown["type"] = "typing"
            #expect(try await rig.post(unknown) == 200)
            #expect(try await rig.post(rig.personalInstall("6f1c2d3e-0000-4000-8000-0000000000e4")) == 200)
            let records = try await rig.records(["refs", "interactions"], atLeast: 2)
            #expect(records.count == 2)
            #expect(records.allSatisfy { String(decoding: $0.value, as: UTF8.self).contains("0000000000e4") })
        }
    }

    @Test func whenKafkaCannotTakeTheRecordsTheGatewayAnswers503AndTheRetryIsTheSameEvent() async throws {
        try await GatewayRig.with(produceTimeout: "2s") { rig in
            let install = rig.personalInstall("6f1c2d3e-0000-4000-8000-0000000000f1", id: "f:during-outage")
            rig.kafka.beginOutage()
            #expect(try await rig.post(install) == 503)
            rig.kafka.endOutage()
            try await eventually(within: .seconds(30), "the gateway accepts the retry") {
                try await rig.post(install) == 200
            }
            let events = try await rig.records(["interactions"], atLeast: 1).map(object)
            #expect(Set(events.compactMap { $0["id"] as? String }).count == 1, "however often it was produced")
        }
    }
}
