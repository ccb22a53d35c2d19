import Logging

extension TeamsEmulator {
    /// Starts an emulator on `host` and a free port, runs `body` with it, then shuts it down and waits
    /// until it has stopped: the way tests and the demo use it in-process.
    /// - Parameter now: the clock for token expiry and rate-limit windows. Default: `ContinuousClock.now`
    public static func withRunning<Result: Sendable>(
        configuration: EmulatorConfiguration,
        host: String = "127.0.0.1",
        logger: Logger = Logger(label: "herald.emulator"),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        _ body: (TeamsEmulator) async throws -> Result
    ) async throws -> Result {
        let emulator = try await TeamsEmulator.bind(
            configuration: configuration,
            host: host,
            port: 0,
            logger: logger,
            now: now
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await emulator.run() }
            do {
                let result = try await body(emulator)
                emulator.shutdown()
                try await group.waitForAll()
                return result
            } catch {
                emulator.shutdown()
                group.cancelAll()
                throw error
            }
        }
    }
}
