import Foundation
import HeraldHTTP
import NIOCore
import NIOHTTP1

extension EmulatorCore {
    /// Where Microsoft Graph is served: a Graph base URL for clients is `{origin}/graph`.
    static let graphPrefix = "/graph/v1.0/"

    enum ParsedGraph {
        case call(GraphCall)
        case reply(EmulatorState.Reply)
    }

    /// A Microsoft Graph call; `rest` is the path after `/graph/v1.0/`.
    func graph(_ request: HTTPRequest, rest: Substring) async -> HTTPResponse {
        var call: GraphCall
        switch Self.parseGraph(request, rest: rest) {
        case .call(let parsed):
            call = parsed
            call.base = self.origin.withLock { $0 } + Self.graphPrefix
        case .reply(let reply):
            self.state.withLock { state in
                state.stats.requests += 1
                state.stats.graphRequests += 1
            }
            return self.response(reply)
        }
        let (reply, latency) = self.state.withLock { state in
            // Read under the lock: calls are counted in the order they are served, so the limiters' history
            // stays in time order however many connections race for the lock.
            let now = self.now()
            state.stats.requests += 1
            return (state.serveGraph(call, now: now), state.configuration.latency)
        }
        if latency > .zero {
            try? await Task.sleep(for: latency)
        }
        return self.response(reply)
    }

    /// Reads the route from the path after `/graph/v1.0/` (Graph's fixed segments are case-insensitive).
    static func parseGraph(_ request: HTTPRequest, rest: Substring) -> ParsedGraph {
        var segments: [String] = []
        for segment in rest.split(separator: "/", omittingEmptySubsequences: true) {
            guard let value = PercentEncoding.decode(segment) else {
                return .reply(EmulatorState.graphError(.badRequest, "BadRequest", "Malformed path."))
            }
            segments.append(value)
        }
        let notFound = EmulatorState.graphError(
            .notFound, "NotFound", "Resource not found for the segment '\(segments.last ?? "")'.")
        let notAllowed = EmulatorState.graphError(
            .methodNotAllowed, "BadRequest", "The HTTP method '\(request.method.rawValue)' is not allowed here.")
        let fixed = segments.map { $0.lowercased() }
        let authorization = request.headers.first(name: "authorization")
        if fixed.first == "users", segments.count <= 2 {
            guard request.method == .GET else { return .reply(notAllowed) }
            if segments.count == 2 { return .call(GraphCall(route: .user(segments[1]), authorization: authorization)) }
            // Filtering on proxyAddresses is an advanced query: Graph refuses it without these.
            guard let filter = request.queryValue("$filter"), let address = Self.filteredAddress(filter) else {
                return .reply(
                    EmulatorState.graphError(
                        .badRequest, "Request_UnsupportedQuery",
                        "Unsupported query: filter by mail eq '...' or proxyAddresses/any(p:p eq 'smtp:...')."))
            }
            guard request.headers.first(name: "consistencylevel")?.lowercased() == "eventual",
                request.queryValue("$count") == "true"
            else {
                return .reply(
                    EmulatorState.graphError(
                        .badRequest, "Request_UnsupportedQuery",
                        "Operator 'any' is not supported without ConsistencyLevel: eventual and $count=true."))
            }
            return .call(GraphCall(route: .usersWithAddress(address), authorization: authorization))
        }
        if fixed.first == "groups" {
            guard segments.count == 4, fixed[2] == "transitivemembers", fixed[3] == "microsoft.graph.user" else {
                return .reply(notFound)
            }
            guard request.method == .GET else { return .reply(notAllowed) }
            var top = 100
            if let text = request.queryValue("$top") {
                guard let value = Int(text), (1...999).contains(value) else {
                    return .reply(
                        EmulatorState.graphError(
                            .badRequest, "Request_UnsupportedQuery", "Invalid page size specified: '\(text)'."))
                }
                top = value
            }
            var skip = 0
            if let token = request.queryValue("$skiptoken") {
                guard token.hasPrefix("emu-"), let offset = Int(token.dropFirst(4)), offset >= 0 else {
                    return .reply(
                        EmulatorState.graphError(.badRequest, "Directory_InvalidSkipToken", "Bad skip token."))
                }
                skip = offset
            }
            let route = GraphCall.Route.groupMembers(groupId: segments[1], top: top, skip: skip)
            return .call(GraphCall(route: route, authorization: authorization))
        }
        guard segments.count == 4 || segments.count == 6, fixed[0] == "users", fixed[2] == "teamwork",
            fixed[3] == "installedapps"
        else { return .reply(notFound) }
        let userId = segments[1]
        if segments.count == 6 {
            guard fixed[5] == "chat" else { return .reply(notFound) }
            guard request.method == .GET else { return .reply(notAllowed) }
            let route = GraphCall.Route.chat(userId: userId, installationId: segments[4])
            return .call(GraphCall(route: route, authorization: authorization))
        }
        switch request.method {
        case .POST:
            let route = GraphCall.Route.install(userId: userId, teamsAppId: self.boundAppId(request.bodyBytes))
            return .call(GraphCall(route: route, authorization: authorization))
        case .GET:
            var appId: String?
            if let filter = request.queryValue("$filter") {
                guard let id = self.filteredAppId(filter) else {
                    return .reply(
                        EmulatorState.graphError(
                            .badRequest, "BadRequest", "Invalid filter clause: use teamsApp/id eq '{teamsAppId}'."))
                }
                appId = id
            }
            let expands = request.queryValue("$expand")?.split(separator: ",").contains {
                $0.trimmingCharacters(in: .whitespaces).lowercased() == "teamsapp"
            }
            let route = GraphCall.Route.list(userId: userId, teamsAppId: appId, expandsTeamsApp: expands == true)
            return .call(GraphCall(route: route, authorization: authorization))
        default:
            return .reply(notAllowed)
        }
    }

    /// The app id at the end of `teamsApp@odata.bind` (`{any host}/appCatalogs/teamsApps/{id}`), nil when the body
    /// has none.
    static func boundAppId(_ body: [UInt8]) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let bind = object["teamsApp@odata.bind"] as? String,
            let range = bind.range(of: "/appCatalogs/teamsApps/", options: .caseInsensitive)
        else { return nil }
        var tail = bind[range.upperBound...]
        while tail.hasSuffix("/") { tail = tail.dropLast() }
        guard !tail.isEmpty, !tail.contains("/"), let id = PercentEncoding.decode(tail), !id.isEmpty else {
            return nil
        }
        return id
    }

    /// The quoted id of `teamsApp/id eq '{id}'`, nil when the filter says anything else.
    static func filteredAppId(_ filter: String) -> String? {
        guard let open = filter.firstIndex(of: "'"), let close = filter.lastIndex(of: "'"), open < close,
            filter[filter.index(after: close)...].allSatisfy(\.isWhitespace)
        else { return nil }
        let clause = filter[..<open].split(whereSeparator: \.isWhitespace).map { $0.lowercased() }
        guard clause == ["teamsapp/id", "eq"] else { return nil }
        let id = filter[filter.index(after: open)..<close].replacingOccurrences(of: "''", with: "'")
        return id.isEmpty ? nil : id
    }
}
