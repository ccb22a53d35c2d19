import Foundation
import HeraldHTTP
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

extension EmulatorCore {
    static let openIdMetadataPath = "openid/.well-known/openidconfiguration"
    static let jwksPath = "openid/keys"

    /// The OpenID metadata and its keys, `GET /emulator/inbound` (what was posted to the bot), and the endpoints
    /// that make the emulator post to the bot: `POST /emulator/install`, `/emulator/message`, `/emulator/activity`,
    /// and `POST /emulator/click`, which presses a button of a card the bot sent:
    ///
    /// ```json
    /// {"conversationId": "a:1emu...", "activityId": "1700000000001", "verb": "approve", "title": "Approve",
    ///  "from": {"id": "29:1...", "aadObjectId": "...", "name": "Ada"}, "data": {"extra": 1}, "token": "valid",
    ///  "locale": "en-US", "timeZone": "Europe/Berlin"}
    /// ```
    ///
    /// answered with `{"activityId","conversationId","type":"invoke"|"message","httpStatus","answer":{"kind":
    /// "card"|"message"|"error"|"invalid"|"timeout"|"none","text"?,"statusCode"?,"error"?:{"code","message"},
    /// "reason"?},"card":CARD|null,"posted":{"id","type","status","attempts","response"?}}` once the bot was
    /// reached, whatever it answered (see ``click(_:)``); 404 NotFound for an unknown conversation or activity or no
    /// matching button (the message lists the card's buttons), 502 BotUnreachable.
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
                Self.json(try await self.install(DriveBodies.install(Data(buffer: request.body))))
            }
        case (.POST, "message"):
            return await self.driven { () async throws(BotDriveError) in
                Self.json(try await self.message(DriveBodies.message(Data(buffer: request.body))))
            }
        case (.POST, "activity"):
            return await self.driven { () async throws(BotDriveError) in
                let (body, token, claim) = try DriveBodies.activity(request.bodyBytes)
                return Self.json(try await self.post(rawActivity: body, token: token, serviceUrlClaim: claim))
            }
        case (.POST, "click"):
            return await self.driven { () async throws(BotDriveError) in
                Self.json(try await self.click(DriveBodies.click(request.bodyBytes)))
            }
        default:
            return nil
        }
    }

    /// 200 with the JSON `body` makes, else the error's status and code.
    private func driven(_ body: () async throws(BotDriveError) -> String) async -> HTTPResponse {
        self.state.withLock { $0.stats.requests += 1 }
        do {
            return .json(.ok, try await body())
        } catch {
            return .json(
                HTTPResponseStatus(statusCode: error.status),
                #"{"error":{"code":"\#(error.code)","message":\#(JSONText.quote(error.message))}}"#
            )
        }
    }

    /// `{"conversationId","serviceUrl","activities":[...]}`, each activity with the bot's answer.
    static func json(_ delivery: BotDelivery) -> String {
        let activities = delivery.activities.map { Self.json($0, withResponse: true) }.joined(separator: ",")
        return #"{"conversationId":\#(JSONText.quote(delivery.conversationId)),"#
            + #""serviceUrl":\#(JSONText.quote(delivery.serviceUrl)),"activities":[\#(activities)]}"#
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
