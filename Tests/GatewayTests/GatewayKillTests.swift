import AsyncHTTPClient
import ChildProcess
import Foundation
import Kafka
import TeamsEmulator
import TestSupport
import Testing

@Suite("Gateway: a killed gateway")
struct GatewayKillTests {
    /// Teams counts an activity as delivered only when the bot answers 200: a gateway killed while Kafka holds
    /// the activity back never answered, so Teams sends it again, to whichever gateway is there; the records
    /// that arrive are the same whoever produced them.
    @Test func aGatewayKilledMidRequestLosesNothingAndTheRetryIsTheSameEvent() async throws {
        try await GatewayRig.with(produceTimeout: "30s", inProcess: false) { rig in
            let config = try #require(rig.configFile)
            let activity = GatewayRig.json(
                rig.personalInstall("0f0f0f0f-0000-4000-8000-000000000001", id: "f:killed-mid-request"))
            let token = "Bearer \(rig.emulator.botToken(.valid, serviceUrl: rig.emulator.serviceURL))"
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
                (try? await rig.post(to: "http://127.0.0.1:\(secondPort)/api/messages", activity, authorization: token))
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
