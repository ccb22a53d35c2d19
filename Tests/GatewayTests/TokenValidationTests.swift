import Foundation
import Gateway
import GatewayTestSupport
import Kafka
import TeamsEmulator
import Testing

@Suite("Gateway: Bot Framework token validation")
struct TokenValidationTests {
    /// Every way a token can be wrong, each in exactly one way: 401 and nothing recorded, while the same activity
    /// with a valid token is recorded.
    @Test func everyBrokenTokenIsRefusedAndRecordsNothing() async throws {
        try await GatewayRig.with { rig in
            let refused = "6f1c2d3e-0000-4000-8000-000000000001"
            for kind in BotTokenKind.allCases where kind != .valid {
                let status = try await rig.post(rig.personalInstall(refused), token: kind)
                #expect(status == 401, "\(kind) is refused")
            }
            let body = GatewayRig.json(rig.personalInstall(refused))
            let valid = rig.emulator.botToken(.valid, serviceUrl: rig.emulator.serviceUrl)
            for (authorization, what) in [
                (nil as String?, "no Authorization header"), ("Basic YXBwOnNlY3JldA==", "not Bearer"),
                ("Bearer", "Bearer without a token"), ("Bearer not.a.jwt", "malformed"),
                ("Bearer " + String(repeating: "a", count: 20_000), "oversized"),
                ("Bearer \(valid)x", "a valid token with a changed signature"),
                (
                    "Bearer \(GatewayRig.withHeader(valid, ["alg": "RS256", "kid": "no-such-key", "typ": "JWT"]))",
                    "a kid the metadata does not list"
                ),
            ] {
                let response = try await rig.post(body, authorization: authorization)
                #expect(response.status == 401, "\(what) is refused")
                #expect(!response.body.contains("kid") && !response.body.contains("exp"), "the reason is not told")
            }
            // A valid token whose serviceurl claim is for another activity's service URL.
            var moved = rig.personalInstall(refused)
            moved["serviceUrl"] = rig.emulator.origin + "/amer/"
            #expect(try await rig.post(GatewayRig.json(moved), authorization: "Bearer \(valid)").status == 401)

            let accepted = "6f1c2d3e-0000-4000-8000-000000000002"
            #expect(try await rig.post(rig.personalInstall(accepted)) == 200)
            let records = try await rig.records(["refs", "interactions"], atLeast: 2)
            #expect(records.count == 2, "one reference and one event, only for the valid token")
            #expect(records.allSatisfy { String(decoding: $0.value, as: UTF8.self).contains(accepted) })
        }
    }

}
