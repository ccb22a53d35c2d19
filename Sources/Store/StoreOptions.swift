/// Tuning shared by both backends.
public struct StoreOptions: Sendable {
    /// Longest a single store call may take before failing with ``StoreError/Code/timeout``. Default: 10 s.
    public var operationTimeout: Duration = .seconds(10)
    /// PostgreSQL: most pooled connections. Default: 8.
    public var maximumConnections: Int = 8
    /// SQLite: how long a writer waits for another process's lock before failing retryably. Default: 5 s.
    public var busyTimeout: Duration = .seconds(5)
    /// Most items one coalesced batch carries. Default: 1000.
    public var maxBatchSize: Int = 1000
    /// Overrides the URL's PostgreSQL schema (tests use one schema each). Default: none (the URL's, else `public`).
    public var postgresSchema: String?

    public init() {}
}
