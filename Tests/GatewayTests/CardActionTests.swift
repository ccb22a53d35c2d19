import ChildProcess
import Foundation
import Gateway
import GatewayTestSupport
import Kafka
import Store
import TeamsEmulator
import TestSupport
import Testing

/// Buttons pressed on Herald cards, posted to a real gateway as Teams posts them (signed by the emulator's keys),
/// with the opt-outs in a real SQLite store and the events on the mock cluster.
@Suite("Gateway: card actions")
struct CardActionTests {
    static let clicker = "6f1c2d3e-0000-4000-8000-00000000c11c"
    static let someoneElse = "6f1c2d3e-0000-4000-8000-00000000e15e"

    static let files: [String: String] = [
        "routes.yaml": """
        routes:
          - name: tickets
            match: { type: "ticket" }
            to: [{ reference: "${data.key}" }]
            message: { card: templates/ticket.json }
            optOut: true
            actions:
              approve: { card: templates/approved.json }
              reassign: { text: "Reassigned by ${actor.name}: ${data.comment}" }
        """,
        "templates/ticket.json": """
        {"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"Ticket ${data.id}"}],
         "actions":[{"type":"Action.Execute","title":"Acknowledge","verb":"herald.ack"}]}
        """,
        "templates/approved.json": """
        {"type":"AdaptiveCard","version":"1.5",
         "body":[{"type":"TextBlock","text":"Approved by ${actor.name} at ${action.time}: ${data.comment}"}],
         "actions":[{"type":"Action.Execute","title":"Undo approval","verb":"unapprove"}]}
        """,
    ]

    /// The card as a worker renders it for delivery `deliveryId`: every button names the delivery.
    static func sentCard(deliveryId: String) -> String {
        let herald =
            #"{"route":"tickets","eventId":"evt-1","notificationKey":"ticket-1","deliveryId":"\#(deliveryId)"}"#
        return #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"Ticket 42"}],"#
            + #""actions":[{"type":"Action.Execute","title":"Acknowledge","verb":"herald.ack","data":{"herald":\#(herald)}},"#
            + #"{"type":"Action.OpenUrl","title":"Open","url":"https://example.com/42"},"#
            + #"{"type":"Action.Execute","title":"Stop these notifications","verb":"herald.optOut","data":{"herald":\#(herald)}}]}"#
    }

    /// A button's data as Herald rendered it for `sent`: the herald block naming its delivery.
    static func herald(_ sent: GatewayRig.SentCard, route: String = "tickets") -> [String: Any] {
        ["herald": GatewayRig.heraldBlock(route: route, deliveryId: sent.deliveryId)]
    }

    static func card(_ answer: [String: Any]?) -> [String: Any]? {
        guard answer?["statusCode"] as? Int == 200,
            answer?["type"] as? String == "application/vnd.microsoft.card.adaptive"
        else { return nil }
        return answer?["value"] as? [String: Any]
    }

    static func texts(_ card: [String: Any]?) -> [String] {
        ((card?["body"] as? [[String: Any]]) ?? []).compactMap { $0["text"] as? String }
    }

    static func actions(_ card: [String: Any]?) -> [[String: Any]] {
        (card?["actions"] as? [[String: Any]]) ?? []
    }

    @Test func anOptOutFromTheCardLandsOnTheClickerWhateverTheDataClaimsAndUndoBringsTheCardBack() async throws {
        try await GatewayRig.with(files: Self.files) { rig in
            let sent = try await rig.sendCard(Self.sentCard(deliveryId: "d-1"), to: Self.clicker, deliveryId: "d-1")
            // The data claims another user in every way a forged client could.
            var data = Self.herald(sent)
            data["aadObjectId"] = Self.someoneElse
            data["user"] = ["aadObjectId": Self.someoneElse]
            data["from"] = ["aadObjectId": Self.someoneElse, "id": "29:someone-else"]
            let (status, answer) = try await rig.press(
                rig.execute("herald.optOut", data: data, on: sent, by: Self.clicker))
            #expect(status == 200)
            let confirmation = try #require(Self.card(answer), "a card answer, not \(String(describing: answer))")
            #expect(Self.texts(confirmation).joined().contains("no longer"))
            let undo = try #require(Self.actions(confirmation).first { $0["verb"] as? String == "herald.optIn" })
            let undoData = try #require(undo["data"] as? [String: Any])
            #expect(
                (undoData["herald"] as? [String: Any])?["deliveryId"] as? String == "d-1", "Undo names the delivery")

            let optOuts = try await rig.store.listOptOuts(tenantId: GatewayRig.tenant)
            #expect(optOuts.count == 1)
            #expect(optOuts.first?.subject == .aadObjectId(Self.clicker) && optOuts.first?.route == "tickets")

            // Undo, with the data the confirmation's button carries.
            let (undoStatus, undone) = try await rig.press(
                rig.execute("herald.optIn", data: undoData, on: sent, by: Self.clicker))
            #expect(undoStatus == 200)
            let restored = try #require(Self.card(undone))
            #expect(Self.texts(restored) == ["Ticket 42"], "the card it replaced comes back")
            #expect(Self.actions(restored).count == 3)
            #expect(try await rig.store.listOptOuts(tenantId: GatewayRig.tenant).isEmpty)

            let events = try await rig.records(["interactions"], atLeast: 2).map(object)
            #expect(events.map { $0["type"] as? String } == ["herald.teams.optout", "herald.teams.optin"])
            let optOut = try #require(events.first)
            #expect(optOut["subject"] as? String == Self.clicker)
            let eventData = try #require(optOut["data"] as? [String: Any])
            #expect((eventData["user"] as? [String: Any])?["aadObjectId"] as? String == Self.clicker)
            let action = try #require(eventData["action"] as? [String: Any])
            #expect(action["route"] as? String == "tickets" && action["deliveryId"] as? String == "d-1")
            #expect(action["scope"] as? String == "route" && action["verb"] as? String == "herald.optOut")
            #expect(action["activityId"] as? String == sent.activityId)
            let records = try await rig.records(["interactions"], atLeast: 2)
            let validation = try await SchemaValidator.run(
                records.map { ("interaction-event.schema.json", $0.value) })
            #expect(validation.exitCode == 0, "\(validation.output)")
        }
    }

    @Test func scopeAllOptsOutOfEveryRoute() async throws {
        try await GatewayRig.with(files: Self.files) { rig in
            let sent = try await rig.sendCard(Self.sentCard(deliveryId: "d-2"), to: Self.clicker, deliveryId: "d-2")
            var data = Self.herald(sent)
            data["scope"] = "all"
            let (_, answer) = try await rig.press(rig.execute("herald.optOut", data: data, on: sent, by: Self.clicker))
            #expect(Self.card(answer) != nil)
            let optOuts = try await rig.store.listOptOuts(tenantId: GatewayRig.tenant)
            #expect(optOuts.count == 1 && optOuts.first?.route == nil, "every route")
            let checks = [OptOutCheck(tenantId: GatewayRig.tenant, aadObjectId: Self.clicker)]
            #expect(try await rig.store.optedOut(checks, route: "anything-else") == [0])
        }
    }

    @Test func acknowledgeShowsWhoAndWhenOnTheCardAndTellsUpstream() async throws {
        try await GatewayRig.with(files: Self.files) { rig in
            let sent = try await rig.sendCard(Self.sentCard(deliveryId: "d-3"), to: Self.clicker, deliveryId: "d-3")
            let (_, answer) = try await rig.press(
                rig.execute("herald.ack", data: Self.herald(sent), on: sent, by: Self.clicker, name: "Ada \"}]Lovelace")
            )
            let card = try #require(Self.card(answer))
            let texts = Self.texts(card)
            #expect(texts.count == 2 && texts[0] == "Ticket 42")
            #expect(texts[1].hasPrefix("Acknowledged by Ada \"}]Lovelace at 20") && texts[1].hasSuffix(" UTC"))
            let titles = Self.actions(card).compactMap { $0["title"] as? String }
            #expect(titles == ["Open", "Stop these notifications"], "acknowledged once: its button is gone")
            let events = try await rig.records(["interactions"], atLeast: 1).map(object)
            #expect(events.map { $0["type"] as? String } == ["herald.teams.acknowledged"])
            let action = (events.first?["data"] as? [String: Any])?["action"] as? [String: Any]
            #expect(action?["notificationKey"] as? String == "ticket-1" && action?["eventId"] as? String == "evt-1")
            #expect(try await rig.store.listOptOuts(tenantId: nil).isEmpty)
        }
    }

    @Test(arguments: [#"Mallory"}],"x":{"#, "${data.secret} ${actor.name}", String(repeating: "é", count: 10_000)])
    func anyOtherVerbIsAnEventAndTheRoutesAnswerKeepsItsStructure(hostile: String) async throws {
        try await GatewayRig.with(files: Self.files) { rig in
            let sent = try await rig.sendCard(Self.sentCard(deliveryId: "d-4"), to: Self.clicker, deliveryId: "d-4")
            var data = Self.herald(sent)
            data["comment"] = hostile
            data["secret"] = "TOPSECRET"
            let (_, approved) = try await rig.press(
                rig.execute("approve", data: data, on: sent, by: Self.clicker, name: hostile))
            let card = try #require(Self.card(approved))
            #expect(card.keys.sorted() == ["actions", "body", "type", "version"])
            let texts = Self.texts(card)
            #expect(texts.count == 1)
            #expect(texts[0].hasPrefix("Approved by \(hostile) at 20") && texts[0].hasSuffix(": \(hostile)"))
            #expect(!texts[0].contains("TOPSECRET"), "values are text, never evaluated again")
            let undo = try #require(Self.actions(card).first)
            #expect(Self.actions(card).count == 1 && undo["verb"] as? String == "unapprove")
            #expect(((undo["data"] as? [String: Any])?["herald"] as? [String: Any])?["deliveryId"] as? String == "d-4")

            let (_, reassigned) = try await rig.press(
                rig.execute(
                    "reassign", data: Self.herald(sent).merging(["comment": "to Bob"]) { $1 }, on: sent,
                    by: Self.clicker))
            #expect(reassigned?["type"] as? String == "application/vnd.microsoft.activity.message")
            #expect(reassigned?["value"] as? String == "Reassigned by Ada Lovelace: to Bob")

            let (_, escalated) = try await rig.press(
                rig.execute("escalate", data: Self.herald(sent), on: sent, by: Self.clicker))
            #expect(escalated?["value"] as? String == "Got it.")

            let events = try await rig.records(["interactions"], atLeast: 3).map(object)
            #expect(events.allSatisfy { $0["type"] as? String == "herald.teams.card.action" } && events.count == 3)
            let actions = events.compactMap { ($0["data"] as? [String: Any])?["action"] as? [String: Any] }
            #expect(actions.map { $0["verb"] as? String } == ["approve", "reassign", "escalate"])
            let first = try #require(actions.first?["data"] as? [String: Any])
            #expect(first["comment"] as? String == hostile && first["herald"] == nil, "the button's own data")
            #expect(try await rig.store.listOptOuts(tenantId: nil).isEmpty)
        }
    }

    /// A value over `routing.maxValueBytes` cannot be rendered into the route's answer: the press is still saved
    /// and confirmed (Herald's default answer), never an error page or a broken card.
    @Test func aPressWithA100KBValueIsSavedAndConfirmed() async throws {
        try await GatewayRig.with(maxBodyBytes: 262_144, files: Self.files) { rig in
            let sent = try await rig.sendCard(Self.sentCard(deliveryId: "d-10"), to: Self.clicker, deliveryId: "d-10")
            let huge = String(repeating: #"}]"${x}"#, count: 100 * 1024 / 8)
            let data = Self.herald(sent).merging(["comment": huge]) { $1 }
            let (status, answer) = try await rig.press(rig.execute("approve", data: data, on: sent, by: Self.clicker))
            #expect(status == 200)
            #expect(answer?["type"] as? String == "application/vnd.microsoft.activity.message")
            #expect(answer?["value"] as? String == "Got it.")
            let events = try await rig.records(["interactions"], atLeast: 1).map(object)
            let action = (events.first?["data"] as? [String: Any])?["action"] as? [String: Any]
            #expect((action?["data"] as? [String: Any])?["comment"] as? String == huge, "published as sent")
        }
    }

    @Test func aCardWhoseRouteWasRemovedGetsAPlainConfirmation() async throws {
        try await GatewayRig.with(files: Self.files) { rig in
            let sent = try await rig.sendCard(Self.sentCard(deliveryId: "d-5"), to: Self.clicker, deliveryId: "d-5")
            let data = Self.herald(sent, route: "retired-route")
            let (_, answer) = try await rig.press(rig.execute("herald.optOut", data: data, on: sent, by: Self.clicker))
            #expect(Self.texts(Self.card(answer)).joined().contains("no longer"))
            #expect(try await rig.store.listOptOuts(tenantId: nil).map(\.route) == ["retired-route"])
            let (_, approved) = try await rig.press(rig.execute("approve", data: data, on: sent, by: Self.clicker))
            #expect(approved?["value"] as? String == "Got it.", "no route answer: the default, not an error")
        }
    }

    @Test func anActionSubmitUpdatesTheCardThroughTheBotConnector() async throws {
        try await GatewayRig.with(files: Self.files) { rig in
            let sent = try await rig.sendCard(Self.sentCard(deliveryId: "d-6"), to: Self.clicker, deliveryId: "d-6")
            let data = Self.herald(sent).merging(["verb": "herald.optOut"]) { $1 }
            let (status, answer) = try await rig.press(rig.submit(data, on: sent, by: Self.clicker))
            #expect(status == 200 && answer == nil)
            #expect(try await rig.store.listOptOuts(tenantId: nil).count == 1)
            let conversation = try #require(rig.emulator.conversation(sent.conversationId))
            let update = try #require(
                conversation.activities.first { $0.operation == .update && $0.id == sent.activityId })
            #expect(String(decoding: update.body ?? [], as: UTF8.self).contains("no longer"))
            let events = try await rig.records(["interactions"], atLeast: 1).map(object)
            let action = (events.first?["data"] as? [String: Any])?["action"] as? [String: Any]
            #expect(action?["buttonType"] as? String == "Action.Submit")
        }
    }

    @Test func whenKafkaCannotTakeThePressTheUserIsToldAndOnlyThisPressIsUndone() async throws {
        try await GatewayRig.with(produceTimeout: "1s", files: Self.files) { rig in
            let sent = try await rig.sendCard(Self.sentCard(deliveryId: "d-7"), to: Self.clicker, deliveryId: "d-7")
            let earlier = OptOut(tenantId: GatewayRig.tenant, subject: .aadObjectId(Self.clicker), route: "digest")
            try await rig.store.addOptOut(earlier)
            rig.kafka.beginOutage()
            let (_, answer) = try await rig.press(
                rig.execute("herald.optOut", data: Self.herald(sent), on: sent, by: Self.clicker))
            let (_, optIn) = try await rig.press(
                rig.execute("herald.optIn", data: Self.herald(sent, route: "digest"), on: sent, by: Self.clicker))
            rig.kafka.endOutage()
            #expect(answer?["type"] as? String == "application/vnd.microsoft.error")
            #expect(
                (answer?["value"] as? [String: Any])?["message"] as? String == "Could not save your choice, try again.")
            #expect(optIn?["type"] as? String == "application/vnd.microsoft.error")
            // Nothing the user was told failed is kept; the opt-out made before is still there.
            #expect(try await rig.store.listOptOuts(tenantId: nil).map(\.route) == ["digest"])
        }
    }

    @Test func aLockedStoreIsAnErrorAndAPressThatSavesLateUpdatesTheCard() async throws {
        try await GatewayRig.with(invokeTimeout: "1s", files: Self.files) { rig in
            let sent = try await rig.sendCard(Self.sentCard(deliveryId: "d-8"), to: Self.clicker, deliveryId: "d-8")
            let locker = try await StoreLocker.lock(rig.databasePath)
            let (_, answer) = try await rig.press(
                rig.execute("herald.optOut", data: Self.herald(sent), on: sent, by: Self.clicker))
            #expect(answer?["type"] as? String == "application/vnd.microsoft.error", "answered at the deadline")
            #expect(try await rig.records(["interactions"], atLeast: 0).isEmpty, "nothing published yet")
            locker.release()
            // The write waited for the lock and went through: the user is told by the card itself.
            try await eventually(within: .seconds(20), "the card updated after the late save") {
                rig.emulator.conversation(sent.conversationId)?.activities.contains {
                    $0.operation == .update && String(decoding: $0.body ?? [], as: UTF8.self).contains("no longer")
                } ?? false
            }
            #expect(try await rig.store.listOptOuts(tenantId: nil).count == 1)
            #expect(try await rig.records(["interactions"], atLeast: 1).count == 1)
        }
    }

    @Test func aStoreThatStaysLockedIsAnErrorWithNothingPublished() async throws {
        try await GatewayRig.with(invokeTimeout: "8s", files: Self.files) { rig in
            let sent = try await rig.sendCard(Self.sentCard(deliveryId: "d-9"), to: Self.clicker, deliveryId: "d-9")
            let locker = try await StoreLocker.lock(rig.databasePath)
            let (_, answer) = try await rig.press(
                rig.execute("herald.optOut", data: Self.herald(sent), on: sent, by: Self.clicker))
            locker.release()
            #expect(answer?["type"] as? String == "application/vnd.microsoft.error")
            #expect(try await rig.records(["interactions"], atLeast: 0).isEmpty)
            #expect(try await rig.store.listOptOuts(tenantId: nil).isEmpty)
        }
    }
}

/// Another process holding SQLite's write lock on the store's file (`BEGIN EXCLUSIVE`) until released: the store
/// as slow or unavailable as a busy database makes it.
struct StoreLocker {
    let process: ChildProcess

    static func lock(_ path: String) async throws -> StoreLocker {
        let script = """
            import sqlite3, time
            c = sqlite3.connect(\(String(reflecting: path)), isolation_level=None, timeout=30)
            c.execute('BEGIN EXCLUSIVE')
            print('locked', flush=True)
            time.sleep(600)
            """
        let process = ChildProcess(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", script])
        try process.start()
        _ = await process.line(containing: "locked")
        return StoreLocker(process: process)
    }

    /// Ends the process, and with it its lock.
    func release() {
        process.kill()
    }
}
