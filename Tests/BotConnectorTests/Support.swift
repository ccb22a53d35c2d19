import BotConnector
import Logging
import Synchronization
import TeamsEmulator

/// A clock tests move by hand.
final class ManualClock: Sendable {
    private let base = ContinuousClock.now
    private let offset = Mutex(Duration.zero)

    func now() -> ContinuousClock.Instant { self.base + self.offset.withLock { $0 } }

    func advance(by duration: Duration) { self.offset.withLock { $0 += duration } }
}

let testAppId = "11111111-2222-3333-4444-555555555555"
let testSecret = "s3cret~value&with=reserved chars"
let testTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

extension EmulatorConfiguration {
    static func test(limits: LimitMode = .off) -> EmulatorConfiguration {
        EmulatorConfiguration(appId: testAppId, appPassword: testSecret, limits: limits)
    }
}

/// Runs `body` with an emulator serving on a random loopback port, then shuts it down.
func withEmulator<T: Sendable>(
    _ configuration: EmulatorConfiguration = .test(),
    now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
    _ body: (TeamsEmulator) async throws -> T
) async throws -> T {
    try await TeamsEmulator.withRunning(
        configuration: configuration,
        logger: Logger(label: "test.emulator"),
        now: now,
        body
    )
}

/// Runs `body` with a client configured for `emulator`, then shuts the client down.
func withClient<T: Sendable>(
    for emulator: TeamsEmulator,
    now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
    configure: (inout BotConnectorClient.Configuration) -> Void = { _ in },
    _ body: (BotConnectorClient) async throws -> T
) async throws -> T {
    var configuration = BotConnectorClient.Configuration(
        appId: testAppId,
        appPassword: testSecret,
        tokenURL: emulator.tokenURL,
        defaultServiceUrl: emulator.serviceUrl,
        allowedServiceHosts: [emulator.origin],
        requestTimeout: .seconds(10)
    )
    configure(&configuration)
    let client = BotConnectorClient(configuration: configuration, logger: Logger(label: "test.client"), now: now)
    do {
        let result = try await body(client)
        try await client.shutdown()
        return result
    } catch {
        try await client.shutdown()
        throw error
    }
}

/// Runs `body` and returns the Bot Connector error it threw (nil when it did not throw one).
func botConnectorError(_ body: () async throws -> Void) async -> BotConnectorError? {
    do {
        try await body()
        return nil
    } catch let error as BotConnectorError {
        return error
    } catch {
        return nil
    }
}

/// Creates the 1:1 conversation with `userId` and returns its id.
func chat(_ client: BotConnectorClient, _ userId: String = "29:1user") async throws -> String {
    try await client.createConversation(
        serviceUrl: nil,
        ConversationParameters(target: .user(id: userId), tenantId: testTenant)
    ).id
}
