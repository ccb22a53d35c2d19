import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// The shared store every worker of a group uses: PostgreSQL through postgres-nio's pooled `PostgresClient`.
///
/// ``run()`` runs the pool (put the store in the worker's `ServiceGroup`). Each batch is one statement using
/// array binds (`unnest($1::text[])`), so claiming or updating 1,000 deliveries costs one round trip. When the
/// server is unreachable or restarting, calls fail within ``StoreOptions/operationTimeout`` with a retryable
/// ``StoreError/Code/unavailable`` (or `timeout`) and succeed again once it is back.
public final class PostgresStore: HeraldStore {
    let client: PostgresClient
    let logger: Logger
    let options: StoreOptions
    /// The schema the tables live in (`search_path`), nil for the server's default (`public`).
    let schema: String?
    public let redactedURL: String

    public init(url: StoreURL.PostgresURL, options: StoreOptions = StoreOptions(), logger: Logger) {
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.username, password: url.password, database: url.database,
            tls: Self.tls(url.sslMode))
        configuration.options.maximumConnections = max(1, options.maximumConnections)
        configuration.options.connectTimeout = min(options.operationTimeout, .seconds(10))
        let schema = options.postgresSchema ?? url.schema
        if let schema { configuration.options.additionalStartupParameters = [("search_path", schema)] }
        self.schema = schema
        self.options = options
        self.redactedURL = StoreURL.postgres(url).redacted
        var logger = logger
        logger[metadataKey: StoreMetadataKey.store] = "\(redactedURL)"
        self.logger = logger
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    }

    private static func tls(_ mode: String) -> PostgresClient.Configuration.TLS {
        switch mode {
        case "disable": .disable
        case "require": .require(.makeClientConfiguration())
        default: .prefer(.makeClientConfiguration())
        }
    }

    /// Runs the connection pool until graceful shutdown or cancellation.
    public func run() async throws {
        await client.run()
    }

    /// Runs `body` with the operation timeout, mapping every failure to a ``StoreError``.
    func perform<T: Sendable>(
        _ what: String, function: String = #function, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let timeout = options.operationTimeout
        do {
            return try await StoreMetrics.timed(function) {
                try await abandoning(after: timeout, body) {
                    StoreError(.timeout, "\(what) did not finish within \(timeout) (is PostgreSQL reachable?)")
                }
            }
        } catch {
            let mapped = PostgresStore.storeError(error, doing: what)
            logger.debug("store call failed", metadata: [StoreMetadataKey.error: "\(mapped)"])
            throw mapped
        }
    }

    /// A ``StoreError`` for any error postgres-nio throws; never includes the query's binds or the password.
    static func storeError(_ error: any Error, doing what: String) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? PSQLError {
            if error.code == .server, let info = error.serverInfo {
                let state = info[.sqlState] ?? ""
                let message = "\(what): \(info[.message] ?? "server error") (SQLSTATE \(state))"
                switch state.prefix(2) {
                case "23": return StoreError(.constraint, message)
                // Connection exceptions, rollbacks (deadlock, serialization), out of resources, shutdown.
                case "08", "40", "53", "57": return StoreError(.unavailable, message)
                case "XX": return StoreError(.corrupt, message)
                default: return StoreError(.query, message)
                }
            }
            switch error.code {
            case .tooManyParameters, .invalidCommandTag, .unexpectedBackendMessage, .messageDecodingFailure:
                return StoreError(.query, "\(what): \(error.code)")
            case .poolClosed:
                return StoreError(.closed, "\(what): the PostgreSQL store is closed")
            case .unsupportedAuthMechanism, .authMechanismRequiresPassword, .saslError:
                return StoreError(.unavailable, "\(what): cannot authenticate to PostgreSQL (\(error.code))")
            default:
                return StoreError(.unavailable, "\(what): PostgreSQL connection failed (\(error.code))")
            }
        }
        if error is CancellationError { return StoreError(.closed, "\(what): cancelled") }
        if let error = error as? DecodingError {
            return StoreError(.query, "\(what): unexpected column type (\(error))")
        }
        // The pool's own errors (its circuit breaker trips after a minute of failed connection attempts).
        return StoreError(.unavailable, "\(what): no PostgreSQL connection could be used (\(type(of: error)))")
    }
}
