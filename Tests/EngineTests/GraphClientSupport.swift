import BotConnector
import Logging
import TeamsEmulator

/// Runs `body` with a Graph client of app `app` / `secret` pointed at the emulator's Graph and login endpoints,
/// and shuts the client down whether `body` throws or not.
func withGraphClient(
    on emulator: TeamsEmulator, logger: Logger, _ body: (GraphClient) async throws -> Void
) async throws {
    let graph = GraphClient(
        configuration: .init(
            appId: "app", appPassword: "secret", graphURL: "\(emulator.origin)/graph", loginURL: emulator.origin,
            allowedHosts: [emulator.origin]),
        logger: logger)
    do {
        try await body(graph)
    } catch {
        try await graph.shutdown()
        throw error
    }
    try await graph.shutdown()
}
