import Logging

extension TeamsEmulator {
    /// Starts an emulator on `host` and a free port, runs `body` with it, then shuts it down and waits
    /// until it has stopped: the way tests use it in-process (`herald demo` runs `herald emulator` as a process of
    /// its own, as Teams is).
    /// - Parameters:
    ///   - now: the clock for token expiry and rate-limit windows. Default: `ContinuousClock.now`
    ///   - executor: where the emulator serves its requests. Default: nil, the shared cooperative pool.
    public static func withRunning<Result: Sendable>(
        configuration: EmulatorConfiguration,
        host: String = "127.0.0.1",
        logger: Logger = Logger(label: "herald.emulator"),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        executor: (any TaskExecutor)? = nil,
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
            group.addTask(executorPreference: executor) { try await emulator.run() }
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
