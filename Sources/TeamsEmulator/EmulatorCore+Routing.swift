import HeraldHTTP
import NIOCore
import NIOHTTP1

extension EmulatorCore {
    /// Reads the route from the path after `/v3/conversations` and checks the body (outside the lock).
    enum Parsed {
        case call(APICall)
        case reply(EmulatorState.Reply)
    }

    func parse(_ request: HTTPRequest, rest: Substring) -> Parsed {
        let segments = rest.split(separator: "/", omittingEmptySubsequences: true)
        let notFound = EmulatorState.error(.notFound, "NotFound", "No such Bot Connector operation.")
        let notAllowed = EmulatorState.error(.methodNotAllowed, "MethodNotAllowed", "The method is not allowed here.")
        var decoded: [String] = []
        for segment in segments {
            guard let value = PercentEncoding.decode(segment) else {
                return .reply(EmulatorState.error(.badRequest, "BadArgument", "Malformed path."))
            }
            decoded.append(value)
        }
        let authorization = request.headers.first(name: "authorization")
        let maxBytes = self.state.withLock { $0.configuration.maxMessageBytes }
        switch (request.method, decoded.count) {
        case (.POST, 0):
            return .call(
                APICall(route: .create, authorization: authorization, body: self.createBody(request, maxBytes)))
        case (_, 0):
            return .reply(notAllowed)
        case (.POST, 2) where decoded[1] == "activities", (.POST, 3) where decoded[1] == "activities":
            let route = APICall.Route.send(conversationId: decoded[0])
            return .call(
                APICall(route: route, authorization: authorization, body: self.activityBody(request, maxBytes)))
        case (.PUT, 3) where decoded[1] == "activities":
            let route = APICall.Route.update(conversationId: decoded[0], activityId: decoded[2])
            return .call(
                APICall(route: route, authorization: authorization, body: self.activityBody(request, maxBytes)))
        case (.DELETE, 3) where decoded[1] == "activities":
            let route = APICall.Route.delete(conversationId: decoded[0], activityId: decoded[2])
            return .call(APICall(route: route, authorization: authorization, body: .none))
        case (.GET, 2) where decoded[1] == "pagedmembers":
            var pageSize: Int?
            if let text = request.queryValue("pageSize") {
                guard let value = Int(text) else {
                    return .reply(EmulatorState.error(.badRequest, "BadArgument", "pageSize must be a number."))
                }
                pageSize = value
            }
            let route = APICall.Route.members(
                conversationId: decoded[0],
                pageSize: pageSize,
                continuationToken: request.queryValue("continuationToken")
            )
            return .call(APICall(route: route, authorization: authorization, body: .none))
        case (_, 2) where decoded[1] == "activities" || decoded[1] == "pagedmembers",
            (_, 3) where decoded[1] == "activities":
            return .reply(notAllowed)
        default:
            return .reply(notFound)
        }
    }

    private func activityBody(_ request: HTTPRequest, _ maxBytes: Int) -> APICall.Body {
        guard request.body.readableBytes <= maxBytes else { return .tooLarge }
        let bytes = request.bodyBytes
        switch Validation.activity(bytes) {
        case .success(let info): return .activity(info, bytes)
        case .failure(let failure): return .invalid(failure.message)
        }
    }

    private func createBody(_ request: HTTPRequest, _ maxBytes: Int) -> APICall.Body {
        guard request.body.readableBytes <= maxBytes else { return .tooLarge }
        switch Validation.createConversation(request.bodyBytes) {
        case .success(let info): return .create(info)
        case .failure(let failure): return .invalid(failure.message)
        }
    }
}
