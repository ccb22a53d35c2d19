import BotConnector
import Synchronization
import TeamsEmulator
import Testing

/// The engine's rate governor confirms each request's departure through `BotConnectorClient.beforeRequest`: it
/// must run once per request actually written, as late as the client can hold it (its token already in hand).
@Suite("The hook before each request is written")
struct DepartureGateTests {
    @Test("it runs once per request written, after the token, and again for a request sent a second time")
    func oncePerRequest() async throws {
        var configuration = EmulatorConfiguration.test()
        configuration.gccTenants = [testTenant]
        try await withEmulator(configuration) { emulator in
            try await withClient(for: emulator, configure: { $0.gccServiceUrl = "\(emulator.origin)/gcc/teams/" }) {
                client in
                let tokensSeen = Mutex<[Int]>([])
                let gate: @Sendable () async -> Void = {
                    let issued = emulator.stats().tokensIssued
                    tokensSeen.withLock { $0.append(issued) }
                }
                // A GCC tenant through the public host: refused, then sent again to the GCC host.
                let created = try await BotConnectorClient.$beforeRequest.withValue(gate) {
                    try await chat(client, "29:1gate")
                }
                #expect(tokensSeen.withLock { $0 } == [1, 1], "two requests, each with the token already fetched")
                _ = try await BotConnectorClient.$beforeRequest.withValue(gate) {
                    try await client.sendActivity(
                        serviceUrl: "\(emulator.origin)/gcc/teams/", conversationId: created, .text("x"))
                }
                #expect(tokensSeen.withLock { $0.count } == 3)
                // Without it, nothing is called.
                _ = try await client.sendActivity(
                    serviceUrl: "\(emulator.origin)/gcc/teams/", conversationId: created, .text("y"))
                #expect(tokensSeen.withLock { $0.count } == 3)
            }
        }
    }
}
