import AsyncHTTPClient
import ChildProcess
import Foundation
import GatewayTestSupport
import Kafka
import NIOCore
import NIOHTTP1
import TeamsEmulator
import TestSupport
import Testing

/// The gateway's heavy tests: `herald gateway` as its own process under load, hostile traffic, a kill. Here
/// (one at a time with the other process suites) rather than beside the unit tests, whose deadlines they
/// would crowd on two cores.
extension EndToEnd {
    @Suite("Gateway under load and faults", .serialized)
    struct GatewayLoadTests {
        /// 500 people press "Stop these notifications" at once: every press is one opt-out of its presser, one
        /// event, and a confirmation; none is lost to contention on the store or Kafka.
        @Test func fiveHundredConcurrentOptOutsAreEachSavedOnceAndConfirmed() async throws {
            try await GatewayRig.with(inProcess: false) { rig in
                let sent = GatewayRig.SentCard(
                    conversationId: "a:1card", activityId: "1", deliveryId: "unused", card: "{}")
                let users = (0..<500).map { String(format: "6f1c2d3e-0000-4000-8000-%012d", $0) }
                let answers = try await withThrowingTaskGroup(of: String?.self) { group in
                    for (index, user) in users.enumerated() {
                        group.addTask {
                            let herald = GatewayRig.heraldBlock(
                                route: "alerts", deliveryId: "evt-\(index)|alerts|\(user)")
                            var press = rig.execute("herald.optOut", data: ["herald": herald], on: sent, by: user)
                            press["conversation"] = [
                                "id": "a:1\(user)", "conversationType": "personal", "tenantId": GatewayRig.tenant,
                            ]
                            return try await rig.press(press).answer?["type"] as? String
                        }
                    }
                    return try await group.reduce(into: [String?]()) { $0.append($1) }
                }
                #expect(answers.count == 500)
                #expect(answers.allSatisfy { $0 == "application/vnd.microsoft.card.adaptive" }, "every press confirmed")
                let optOuts = try await rig.store.listOptOuts(tenantId: GatewayRig.tenant)
                #expect(optOuts.count == 500)
                #expect(Set(optOuts.map(\.subject)) == Set(users.map { .aadObjectId($0) }), "each on its presser")
                let events = try await rig.records(["interactions"], atLeast: 500).map(object)
                #expect(events.count == 500 && Set(events.compactMap { $0["id"] as? String }).count == 500)
                #expect(Set(events.compactMap { $0["subject"] as? String }) == Set(users))
            }
        }

        /// Invented key ids cannot make the gateway hammer the metadata endpoint.
        @Test func aFloodOfUnknownKeyIdsFetchesTheKeysAtMostOnceMore() async throws {
            try await GatewayRig.with(inProcess: false) { rig in
                let body = GatewayRig.json(rig.personalInstall("6f1c2d3e-0000-4000-8000-000000000003"))
                #expect(
                    try await rig.post(
                        body,
                        authorization: "Bearer \(rig.emulator.botToken(.valid, serviceUrl: rig.emulator.serviceUrl))"
                    ).status == 200)
                let before = rig.emulator.stats().openIdMetadataRequests
                let valid = rig.emulator.botToken(.valid, serviceUrl: rig.emulator.serviceUrl)
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for start in stride(from: 0, to: 1000, by: 100) {
                        group.addTask {
                            var refused = 0
                            for _ in start..<(start + 100) {
                                let forged = GatewayRig.withHeader(
                                    valid, ["alg": "RS256", "kid": UUID().uuidString, "typ": "JWT"])
                                if try await rig.post(body, authorization: "Bearer \(forged)").status == 401 {
                                    refused += 1
                                }
                            }
                            return refused
                        }
                    }
                    var refused = 0
                    for try await count in group { refused += count }
                    #expect(refused == 1000)
                }
                #expect(rig.emulator.stats().openIdMetadataRequests - before <= 1)
            }
        }

        @Test func twoHundredConcurrentInstallsAreEachRecordedOnce() async throws {
            try await GatewayRig.with(inProcess: false) { rig in
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for user in 0..<200 {
                        group.addTask {
                            try await rig.post(
                                rig.personalInstall(String(format: "0c0c0c0c-0000-4000-8000-%012d", user)))
                        }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(statuses.count == 200 && statuses.allSatisfy { $0 == 200 })
                let records = try await rig.records(["refs", "interactions"], atLeast: 400)
                #expect(records.count == 400)
                let events = records.filter { $0.topic == "interactions" }.map(object)
                #expect(Set(events.compactMap { $0["id"] as? String }).count == 200)
                #expect(Set(records.filter { $0.topic == "refs" }.compactMap(\.key)).count == 200)
            }
        }

        /// Random bytes, oversized and malformed headers, deep JSON, wrong content types and methods, with and without
        /// a valid token: every request is answered (a 4xx, or 200 for a signed activity with nothing usable in it),
        /// nothing is recorded, and the gateway still serves.
        @Test func tenThousandHostileRequestsAreEachAnsweredAndRecordNothing() async throws {
            try await GatewayRig.with(inProcess: false) { rig in
                let valid = "Bearer \(rig.emulator.botToken(.valid, serviceUrl: rig.emulator.serviceUrl))"
                let answered = try await withThrowingTaskGroup(of: [Int: Int].self) { group in
                    for worker in 0..<8 {
                        group.addTask {
                            var generator = SeededRandom(seed: UInt64(worker + 1))
                            var statuses: [Int: Int] = [:]
                            for index in stride(from: worker, to: 10_000, by: 8) {
                                let status = try await Self.hostile(index, rig: rig, valid: valid, &generator)
                                statuses[status, default: 0] += 1
                            }
                            return statuses
                        }
                    }
                    return try await group.reduce(into: [Int: Int]()) { total, part in
                        total.merge(part, uniquingKeysWith: +)
                    }
                }
                #expect(answered.values.reduce(0, +) == 10_000)
                // Well signed but with no usable conversation (every 16th request): answered 200, ignored.
                #expect(answered[200] == 625, "\(answered)")
                #expect(answered[413] == 1250, "every body over gateway.maxBodyBytes is answered 413: \(answered)")
                #expect(answered[0] == nil, "no connection closed without an answer: \(answered)")
                #expect(answered.keys.allSatisfy { $0 == 200 || (400..<500).contains($0) }, "\(answered)")
                #expect(try await rig.post(rig.personalInstall("0d0d0d0d-0000-4000-8000-000000000001")) == 200)
                let records = try await rig.records(["refs", "interactions"], atLeast: 2)
                #expect(records.count == 2, "only the one real install")
            }
        }

        static func hostile(
            _ index: Int, rig: GatewayRig, valid: String, _ generator: inout SeededRandom
        ) async throws -> Int {
            let randomBytes = (0..<Int.random(in: 0...4096, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
            let authorization =
                index % 2 == 0 ? valid : "Bearer " + String(decoding: randomBytes.prefix(64), as: UTF8.self)
            var request = HTTPClientRequest(url: rig.url)
            request.method = .POST
            switch index % 8 {
            case 0:
                request.body = .bytes(ByteBuffer(bytes: randomBytes))
            case 1:
                let depth = Int.random(in: 100...20_000, using: &generator)
                request.body = .bytes(
                    ByteBuffer(string: String(repeating: "[", count: depth) + String(repeating: "]", count: depth)))
            case 2:
                request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
                request.body = .bytes(ByteBuffer(string: "type=message&text=hi"))
            case 3:
                request.headers.add(name: "x-padding", value: String(repeating: "h", count: 60_000))
            case 4:
                request.method = [.GET, .PUT, .DELETE, .PATCH][index / 8 % 4]
            case 5:
                request.body = .bytes(ByteBuffer(bytes: [UInt8](repeating: 0x7B, count: 70_000)))
            case 6:
                var activity = rig.personalInstall("0e0e0e0e-0000-4000-8000-000000000001")
                activity["conversation"] = randomBytes.prefix(32).map(Int.init)
                activity["from"] = "not an account"
                activity["serviceUrl"] = index % 16 == 6 ? rig.emulator.serviceUrl : "javascript:alert(1)"
                request.body = .bytes(ByteBuffer(bytes: GatewayRig.json(activity)))
            default:
                request.headers.add(name: "content-type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: "{\"type\":\"message\",\"text\":\"\\ud800\(index)\"}"))
            }
            request.headers.add(
                name: "authorization",
                value: String(
                    authorization.unicodeScalars.filter { (0x21...0x7E).contains($0.value) || $0 == " " }.map(
                        Character.init)))
            do {
                let response = try await rig.http.execute(request, timeout: .seconds(30))
                _ = try await response.body.collect(upTo: 1 << 20)
                return Int(response.status.code)
            } catch let error as HTTPClientError where error == .remoteConnectionClosed {
                return 0  // closed without an answer
            }
        }

        /// Teams counts an activity as delivered only when the bot answers 200: a gateway killed while Kafka holds
        /// the activity back never answered, so Teams sends it again, to whichever gateway is there; the records
        /// that arrive are the same whoever produced them.
        @Test func aGatewayKilledMidRequestLosesNothingAndTheRetryIsTheSameEvent() async throws {
            try await GatewayRig.with(produceTimeout: "30s", inProcess: false) { rig in
                let config = try #require(rig.configFile)
                let activity = GatewayRig.json(
                    rig.personalInstall("0f0f0f0f-0000-4000-8000-000000000001", id: "f:killed-mid-request"))
                let token = "Bearer \(rig.emulator.botToken(.valid, serviceUrl: rig.emulator.serviceUrl))"
                let (first, firstPort) = try await GatewayRig.launch(config: config)
                defer { first.kill() }
                rig.kafka.beginOutage()
                let inFlight = Task {
                    try await rig.post(to: "http://127.0.0.1:\(firstPort)/api/messages", activity, authorization: token)
                }
                // The request is in the gateway, waiting for Kafka: its producer holds the records.
                try await eventually(within: .seconds(30), "the gateway to hold the activity") {
                    try await Self.metric("herald_gateway_requests_in_flight", of: first) == 1
                }
                first.kill()
                _ = await first.exit(timeout: .seconds(10))
                let answer = await inFlight.result
                #expect((try? answer.get()) == nil, "the killed gateway never answered")

                rig.kafka.endOutage()
                let (second, secondPort) = try await GatewayRig.launch(config: config)
                defer { second.kill() }
                try await eventually(within: .seconds(60), "the retry to be accepted") {
                    (try? await rig.post(
                        to: "http://127.0.0.1:\(secondPort)/api/messages", activity, authorization: token))
                        == 200
                }
                let records = try await rig.records(["refs", "interactions"], atLeast: 2)
                let events = records.filter { $0.topic == "interactions" }.map(object)
                #expect(!events.isEmpty && Set(events.compactMap { $0["id"] as? String }).count == 1)
                let references = records.filter { $0.topic == "refs" }
                #expect(!references.isEmpty && Set(references.map(\.value)).count == 1, "the same reference every time")
                second.terminate()
                #expect(await second.exit(timeout: .seconds(30)).status == 0)
            }
        }

        /// The value of an unlabelled metric of `gateway`, nil before it has one.
        static func metric(_ name: String, of gateway: ChildProcess) async throws -> Double? {
            let text = try await metrics(of: gateway)
            let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            return line.flatMap { Double($0.split(separator: " ").last ?? "") }
        }

        static func metrics(of gateway: ChildProcess) async throws -> String {
            let line = await gateway.line(containing: "http.port=")
            let port = Int(line.dropFirst("http.port=".count)) ?? 0
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = Task { try? await http.shutdown() } }
            let response = try await http.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(10))
            return String(buffer: try await response.body.collect(upTo: 1 << 22))
        }

    }
}
