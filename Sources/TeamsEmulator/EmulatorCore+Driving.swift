import Foundation
import HeraldHTTP
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

extension EmulatorCore {
    static let openIdMetadataPath = "openid/.well-known/openidconfiguration"
    static let jwksPath = "openid/keys"

    /// The OpenID metadata and its keys, `GET /emulator/inbound` (what was posted to the bot), and the endpoints
    /// that make the emulator post to the bot: `POST /emulator/install`, `/emulator/message`, `/emulator/activity`.
    /// Nil for any other path under `/emulator/`.
    func drive(_ request: HTTPRequest, path: Substring) async -> HTTPResponse? {
        switch (request.method, path) {
        case (.GET, Self.openIdMetadataPath[...]):
            self.state.withLock { state in
                state.stats.requests += 1
                state.stats.openIdMetadataRequests += 1
            }
            let jwksURI = self.origin.withLock { $0 } + "/emulator/" + Self.jwksPath
            return .json(.ok, SigningKeys.openIdMetadata(jwksURI: jwksURI))
        case (.GET, Self.jwksPath[...]):
            self.state.withLock { state in
                state.stats.requests += 1
                state.stats.jwksRequests += 1
            }
            guard let keys = self.botTokens.keys else {
                return .json(
                    .internalServerError, #"{"error":{"code":"KeysUnavailable","message":"No signing keys."}}"#)
            }
            return .json(.ok, keys.jwks)
        case (.GET, "inbound"):
            let posted = self.state.withLock { state in
                state.stats.requests += 1
                return state.posted
            }
            return .json(.ok, #"{"activities":[\#(posted.map { Self.json($0) }.joined(separator: ","))]}"#)
        case (.POST, "install"):
            return await self.driven { () async throws(BotDriveError) in
                try await self.install(DriveBodies.install(Data(buffer: request.body)))
            }
        case (.POST, "message"):
            return await self.driven { () async throws(BotDriveError) in
                try await self.message(DriveBodies.message(Data(buffer: request.body)))
            }
        case (.POST, "activity"):
            return await self.driven { () async throws(BotDriveError) in
                let (body, token, claim) = try DriveBodies.activity(request.bodyBytes)
                return try await self.post(rawActivity: body, token: token, serviceUrlClaim: claim)
            }
        default:
            return nil
        }
    }

    private func driven(_ body: () async throws(BotDriveError) -> BotDelivery) async -> HTTPResponse {
        self.state.withLock { $0.stats.requests += 1 }
        do {
            let delivery = try await body()
            let activities = delivery.activities.map { Self.json($0, withResponse: true) }.joined(separator: ",")
            return .json(
                .ok,
                #"{"conversationId":\#(JSONText.quote(delivery.conversationId)),"#
                    + #""serviceUrl":\#(JSONText.quote(delivery.serviceUrl)),"activities":[\#(activities)]}"#
            )
        } catch {
            let code = error.status == 409 ? "NoBotEndpoint" : error.status == 404 ? "NotFound" : "BadArgument"
            return .json(
                HTTPResponseStatus(statusCode: error.status),
                #"{"error":{"code":"\#(code)","message":\#(JSONText.quote(error.message))}}"#
            )
        }
    }

    /// `{"id","type","status","attempts"}`, with the bot's answer as `response` (text) when asked for and there
    /// was one.
    static func json(_ activity: PostedActivity, withResponse: Bool = false) -> String {
        var out =
            #"{"id":\#(JSONText.quote(activity.id)),"type":\#(JSONText.quote(activity.type)),"#
            + #""status":\#(activity.status),"attempts":\#(activity.attempts)"#
        if withResponse && !activity.responseBody.isEmpty {
            out += #","response":\#(JSONText.quote(String(decoding: activity.responseBody, as: UTF8.self)))"#
        }
        return out + "}"
    }
}
