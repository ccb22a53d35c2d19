import HeraldHTTP
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Turns HTTP requests into state transitions and replies: the token endpoint, Microsoft Graph under
/// `/graph/v1.0/`, the Bot Connector API under any other path prefix, and the inspection API under `/emulator/`,
/// with the OpenID metadata and the endpoints that make the emulator post activities to the bot.
final class EmulatorCore: Sendable {
    let state: Mutex<EmulatorState>
    let now: @Sendable () -> ContinuousClock.Instant
    let logger: Logger
    /// Mints the tokens on the activities posted to the bot.
    let botTokens = BotTokens()
    /// Posts activities to the bot's messaging endpoint.
    let botEndpoint = BotEndpoint()
    /// `http://HOST:PORT`, known once the port is bound.
    let origin = Mutex("")
    private let operationIds = Atomic<UInt64>(0)

    init(
        configuration: EmulatorConfiguration,
        logger: Logger,
        now: @escaping @Sendable () -> ContinuousClock.Instant
    ) {
        var seed = SystemRandomNumberGenerator()
        self.state = Mutex(EmulatorState(configuration: configuration, seed: seed.next()))
        self.logger = logger
        self.now = now
    }

    /// The serviceUrl in every activity posted to the bot, where the bot calls back: `{origin}/teams/`.
    var inboundServiceUrl: String { self.origin.withLock { $0 } + "/teams/" }

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let path = request.path
        if path.hasPrefix(Self.graphPrefix) {
            return await self.graph(request, rest: path.dropFirst(Self.graphPrefix.count))
        }
        if let range = path.range(of: "/v3/conversations") {
            return await self.api(request, prefix: path[..<range.lowerBound], rest: path[range.upperBound...])
        }
        if let range = path.range(of: "/v3/teams/") {
            return await self.teams(request, prefix: path[..<range.lowerBound], rest: path[range.upperBound...])
        }
        if path.hasSuffix(Self.tokenSuffix) {
            return self.token(request, tenant: path.dropLast(Self.tokenSuffix.count))
        }
        if path.hasPrefix("/emulator/") {
            let rest = path.dropFirst("/emulator/".count)
            if let driven = await self.drive(request, path: rest) { return driven }
            return self.inspect(request, path: rest)
        }
        self.state.withLock { $0.stats.requests += 1 }
        return .json(.notFound, #"{"error":{"code":"NotFound","message":"No such endpoint."}}"#)
    }

    private static let tokenSuffix = "/oauth2/v2.0/token"

    /// `tenant`: the path before `/oauth2/v2.0/token`, whose last segment names the tenant.
    private func token(_ request: HTTPRequest, tenant: Substring) -> HTTPResponse {
        guard request.method == .POST else {
            self.state.withLock { $0.stats.requests += 1 }
            return .json(.methodNotAllowed, #"{"error":"invalid_request","error_description":"Use POST."}"#)
        }
        var form: [String: String] = [:]
        let text = String(buffer: request.body)
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = PercentEncoding.decode(parts[0], plusAsSpace: true) else { continue }
            form[key] = parts.count > 1 ? PercentEncoding.decode(parts[1], plusAsSpace: true) : ""
        }
        let tenantSegment = tenant.split(separator: "/").last ?? ""
        let tenantId = PercentEncoding.decode(tenantSegment) ?? String(tenantSegment)
        let now = self.now()
        let reply = self.state.withLock { state in
            state.stats.requests += 1
            return state.issueToken(form: form, tenantId: tenantId, now: now)
        }
        return self.response(reply)
    }

    private func api(_ request: HTTPRequest, prefix: Substring, rest: Substring) async -> HTTPResponse {
        var call: APICall
        switch self.parse(request, rest: rest) {
        case .call(let parsed):
            call = parsed
            call.prefix = prefix
        case .reply(let reply):
            self.state.withLock { $0.stats.requests += 1 }
            return self.response(reply)
        }
        return await self.serve(call)
    }

    /// `GET v3/teams/{teamId}/conversations`; `rest` is the path after `/v3/teams/`.
    private func teams(_ request: HTTPRequest, prefix: Substring, rest: Substring) async -> HTTPResponse {
        let segments = rest.split(separator: "/", omittingEmptySubsequences: true)
        guard segments.count == 2, segments[1].lowercased() == "conversations",
            let teamId = PercentEncoding.decode(segments[0])
        else {
            self.state.withLock { $0.stats.requests += 1 }
            return self.response(EmulatorState.error(.notFound, "NotFound", "No such Bot Connector operation."))
        }
        guard request.method == .GET else {
            self.state.withLock { $0.stats.requests += 1 }
            return self.response(
                EmulatorState.error(.methodNotAllowed, "MethodNotAllowed", "The method is not allowed here."))
        }
        var call = APICall(
            route: .channels(teamId: teamId), authorization: request.headers.first(name: "authorization"), body: .none)
        call.prefix = prefix
        return await self.serve(call)
    }

    private func serve(_ call: APICall) async -> HTTPResponse {
        let (reply, latency) = self.state.withLock { state in
            // Read under the lock: calls are counted in the order they are served, so the limiters' history
            // stays in time order however many connections race for the lock.
            let now = self.now()
            state.stats.requests += 1
            return (state.serve(call, now: now), state.configuration.latency)
        }
        if latency > .zero {
            try? await Task.sleep(for: latency)
        }
        return self.response(reply)
    }

    func response(_ reply: EmulatorState.Reply) -> HTTPResponse {
        if reply.dropConnection { return .dropConnection }
        var headers = HTTPHeaders()
        headers.reserveCapacity(3)
        let id = self.operationIds.wrappingAdd(1, ordering: .relaxed).newValue
        headers.add(name: "x-correlating-operationid", value: String(id, radix: 16))
        if let seconds = reply.retryAfterSeconds {
            headers.add(name: "retry-after", value: String(seconds))
        }
        if let location = reply.location { headers.add(name: "location", value: location) }
        if reply.body.isEmpty {
            return HTTPResponse(status: reply.status, headers: headers)
        }
        return .json(reply.status, ByteBuffer(string: reply.body), headers: headers)
    }
}
