import AsyncHTTPClient
import NIOCore
import NIOHTTP1

extension BotConnectorClient {
    /// A response as received.
    struct Response: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: ByteBuffer
        /// The service URL that answered (the GCC one after an `InvalidBotApiHost` retry).
        var service: ServiceUrl
    }

    /// Sends one authorized API call to an already allowed service URL. A 401 invalidates the token,
    /// fetches a new one and retries once; `InvalidBotApiHost` (a GCC tenant reached through another host) is
    /// retried once on the GCC service URL, whatever the configured cloud: a public-cloud bot can serve GCC
    /// tenants too. Any other non-2xx status is thrown, classified.
    func perform(
        _ method: HTTPMethod,
        _ service: ServiceUrl,
        path: String,
        body: [UInt8]?
    ) async throws(BotConnectorError) -> Response {
        do {
            return try await self.performOnce(method, service, path: path, body: body)
        } catch let error where error.code == .invalidBotApiHost {
            guard let gcc = try? self.resolveServiceUrl(self.configuration.effectiveGCCServiceUrl), gcc != service
            else {
                throw error
            }
            self.logger.notice(
                "a GCC tenant was reached through another service host; retrying once on the GCC host",
                metadata: ["serviceUrl": "\(service)", "gccServiceUrl": "\(gcc)"]
            )
            return try await self.performOnce(method, gcc, path: path, body: body)
        }
    }

    private func performOnce(
        _ method: HTTPMethod,
        _ service: ServiceUrl,
        path: String,
        body: [UInt8]?
    ) async throws(BotConnectorError) -> Response {
        let url = service.url(path)
        var token = try await self.tokens.token()
        var response = try await self.send(method, url: url, body: body, token: token, service: service)
        if response.status == 401 {
            self.logger.debug("the Bot Connector refused the token; refreshing it once")
            self.tokens.invalidate(token)
            token = try await self.tokens.token()
            response = try await self.send(method, url: url, body: body, token: token, service: service)
        }
        guard (200..<300).contains(response.status) else {
            let error = BotConnectorError.fromResponse(
                status: response.status,
                headers: response.headers,
                body: Array(buffer: response.body),
                nowEpochSeconds: self.wallClock()
            )
            self.logger.debug(
                "Bot Connector call failed",
                metadata: [
                    "http.method": "\(method.rawValue)", "error.code": "\(error.teamsCode)",
                    "http.status": "\(response.status)", "correlationId": "\(error.correlationId ?? "")",
                ]
            )
            throw error
        }
        return response
    }

    private func send(
        _ method: HTTPMethod,
        url: String,
        body: [UInt8]?,
        token: String,
        service: ServiceUrl
    ) async throws(BotConnectorError) -> Response {
        let (status, headers, body) = try await authorizedCall(
            self.httpClient, method, url: url, body: body, token: token, timeout: self.configuration.requestTimeout,
            maxBody: 4 << 20)
        return Response(status: status, headers: headers, body: body, service: service)
    }
}

/// One call carrying the bearer token and a JSON body, over `httpClient` (which never follows redirects):
/// the status, headers and body (up to `maxBody` bytes). Transport failures are thrown classified. The callers
/// have checked the URL against their allow-list.
func authorizedCall(
    _ httpClient: HTTPClient, _ method: HTTPMethod, url: String, body: [UInt8]?, token: String, timeout: Duration,
    maxBody: Int, headers extra: [(String, String)] = []
) async throws(BotConnectorError) -> (status: Int, headers: HTTPHeaders, body: ByteBuffer) {
    var request = HTTPClientRequest(url: url)
    request.method = method
    request.headers.reserveCapacity(4 + extra.count)
    request.headers.add(name: "authorization", value: "Bearer \(token)")
    request.headers.add(name: "user-agent", value: "herald")
    for (name, value) in extra { request.headers.add(name: name, value: value) }
    if let body {
        request.headers.add(name: "content-type", value: "application/json; charset=utf-8")
        request.body = .bytes(ByteBuffer(bytes: body))
    }
    do {
        let response = try await httpClient.execute(request, timeout: TimeAmount(timeout))
        let body = try await response.body.collect(upTo: maxBody)
        return (Int(response.status.code), response.headers, body)
    } catch {
        throw BotConnectorError.fromTransport(error)
    }
}
