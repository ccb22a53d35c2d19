import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// Posts activities to the bot's messaging endpoint the way the Bot Connector does: JSON with a bearer token,
/// 15 s per attempt (1 s of it to connect), and on a connection failure, a 5xx or a 429 up to three more attempts
/// after 200, 400 and 800 ms, each with the identical body (same activity `id`), as the Bot Connector redelivers.
/// Invokes are posted once, with the shorter time Teams gives a bot to answer them.
///
/// One HTTP client, made on first use and shut down by ``shutdown()``.
final class BotEndpoint: Sendable {
    /// How one activity fared.
    struct Outcome: Sendable {
        /// The bot's last HTTP status; 0 when it could not be reached.
        var status: Int
        var attempts: Int
        /// The bot's last answer body (at most 1 MiB).
        var body: [UInt8]
        /// Whether the last attempt ran out of time (status 0).
        var timedOut = false
    }

    /// The delays before the second, third and fourth attempt.
    static let backoff: [Duration] = [.milliseconds(200), .milliseconds(400), .milliseconds(800)]
    /// How long an attempt may take, answer body included.
    static let timeout: Duration = .seconds(15)
    /// How long an attempt may spend connecting (refused connections are retried within it).
    static let connectTimeout: TimeAmount = .seconds(1)

    private enum ClientState {
        case idle
        case running(HTTPClient)
        case shutDown
    }

    private let client = Mutex(ClientState.idle)

    /// Posts `body` to `url` with `Authorization: Bearer token`, retrying as the Bot Connector does unless
    /// `retries` is false.
    /// - Parameters:
    ///   - timeout: how long each attempt may take, the answer's body included. Default: ``timeout``
    ///   - attempted: called before each attempt (for the stats).
    func post(
        _ body: [UInt8],
        to url: String,
        token: String,
        timeout: Duration = BotEndpoint.timeout,
        retries: Bool = true,
        attempted: @Sendable () -> Void
    ) async -> Outcome {
        guard let client = self.httpClient() else { return Outcome(status: 0, attempts: 0, body: []) }
        var attempts = 0
        var last = Outcome(status: 0, attempts: 0, body: [])
        while true {
            attempts += 1
            attempted()
            last = await self.attempt(client, body, to: url, token: token, timeout: timeout)
            last.attempts = attempts
            let retryable = last.status == 0 || last.status == 429 || last.status >= 500
            guard retries, retryable, attempts <= Self.backoff.count, !Task.isCancelled else { return last }
            try? await Task.sleep(for: Self.backoff[attempts - 1])
        }
    }

    /// One request, raced against `timeout`: the client's own deadline ends with the response head, and a bot
    /// can be slow in its body too.
    private func attempt(
        _ client: HTTPClient,
        _ body: [UInt8],
        to url: String,
        token: String,
        timeout: Duration
    ) async -> Outcome {
        await withTaskGroup(of: Outcome.self) { group in
            group.addTask { await self.exchange(client, body, to: url, token: token) }
            group.addTask {
                do {
                    try await Task.sleep(for: timeout)
                    return Outcome(status: 0, attempts: 0, body: [], timedOut: true)
                } catch {
                    // Cancelled: the post itself was, or the bot answered first.
                    return Outcome(status: 0, attempts: 0, body: [])
                }
            }
            // Two tasks were added: there is a first result.
            let first = await group.next() ?? Outcome(status: 0, attempts: 0, body: [])
            group.cancelAll()
            return first
        }
    }

    private func exchange(_ client: HTTPClient, _ body: [UInt8], to url: String, token: String) async -> Outcome {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "authorization", value: "Bearer \(token)")
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            // The race in `attempt` bounds the time; this deadline only stops a request that outlives it.
            let response = try await client.execute(request, timeout: .seconds(3600))
            let answer = try await response.body.collect(upTo: 1 << 20)
            return Outcome(status: Int(response.status.code), attempts: 0, body: Array(buffer: answer))
        } catch {
            return Outcome(status: 0, attempts: 0, body: [])
        }
    }

    /// The client, made now if this is the first post; nil once shut down.
    private func httpClient() -> HTTPClient? {
        self.client.withLock { state in
            switch state {
            case .idle:
                var configuration = HTTPClient.Configuration()
                configuration.redirectConfiguration = .disallow
                configuration.tracing.tracer = nil
                // The client retries a refused connection until the connect timeout: keep an unreachable bot's
                // attempts short (the bot is local or behind a tunnel; connecting takes milliseconds).
                configuration.timeout = .init(connect: Self.connectTimeout)
                let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
                state = .running(client)
                return client
            case .running(let client):
                return client
            case .shutDown:
                return nil
            }
        }
    }

    /// Shuts the client down, if one was made; later posts find the bot unreachable.
    func shutdown() async {
        let client: HTTPClient? = self.client.withLock { state in
            defer { state = .shutDown }
            if case .running(let client) = state { return client }
            return nil
        }
        try? await client?.shutdown()
    }
}

extension EmulatorConfiguration {
    /// Whether `url` can be a ``botEndpoint``: an absolute http(s) URL with a host.
    public static func isValidBotEndpoint(_ url: String) -> Bool {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = parsed.host, !host.isEmpty
        else { return false }
        return true
    }
}
