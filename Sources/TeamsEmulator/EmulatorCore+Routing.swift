import Foundation
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
        guard request.body.readableBytes <= maxBytes * Self.base64Allowance else { return .tooLarge }
        let bytes = request.bodyBytes
        guard Self.teamsSize(bytes, within: maxBytes) else { return .tooLarge }
        switch Validation.activity(bytes) {
        case .success(let info): return .activity(info, bytes)
        case .failure(let failure): return .invalid(failure.message)
        }
    }

    private func createBody(_ request: HTTPRequest, _ maxBytes: Int) -> APICall.Body {
        guard request.body.readableBytes <= maxBytes * Self.base64Allowance else { return .tooLarge }
        let bytes = request.bodyBytes
        guard Self.teamsSize(bytes, within: maxBytes) else { return .tooLarge }
        switch Validation.createConversation(bytes) {
        case .success(let info): return .create(info)
        case .failure(let failure): return .invalid(failure.message)
        }
    }

    /// How many times the size limit a body may be on the wire: base64 images are not counted against it.
    static let base64Allowance = 4

    /// Whether a message is within `maxBytes` as Teams counts it: "encoded as UTF-16" (two bytes a code unit) and
    /// without base64 encoded images (string values `data:...;base64,...`).
    static func teamsSize(_ bytes: [UInt8], within maxBytes: Int) -> Bool {
        // A UTF-8 byte is at most one UTF-16 code unit.
        guard bytes.count * 2 > maxBytes else { return true }
        var size = String(decoding: bytes, as: UTF8.self).utf16.count * 2
        if let json = try? JSONSerialization.jsonObject(with: Data(bytes)) {
            size -= base64Images(in: json) * 2
        }
        return size <= maxBytes
    }

    /// UTF-16 code units of the base64 `data:` URLs among `value`'s strings.
    private static func base64Images(in value: Any) -> Int {
        switch value {
        case let string as String:
            guard string.hasPrefix("data:"), let comma = string.firstIndex(of: ","),
                string[..<comma].hasSuffix(";base64")
            else { return 0 }
            return string.utf16.count
        case let array as [Any]: return array.reduce(0) { $0 + base64Images(in: $1) }
        case let object as [String: Any]: return object.values.reduce(0) { $0 + base64Images(in: $1) }
        default: return 0
        }
    }
}
