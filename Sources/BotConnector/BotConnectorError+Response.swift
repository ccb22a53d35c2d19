import Foundation
import NIOHTTP1

extension BotConnectorError {
    /// Classifies a non-success Bot Connector response. Both 403 body shapes Teams uses are read:
    /// `{"error":{"code","message"}}` and `{"errorCode":209,"message":"{\"subCode\":...}"}`.
    static func fromResponse(
        status: Int,
        headers: HTTPHeaders,
        body: [UInt8],
        nowEpochSeconds: Double
    ) -> BotConnectorError {
        // An empty code or message in the body says nothing: the status speaks instead (found by fuzzing: an
        // error with no text at all).
        var detail = ErrorBody.parse(body)
        if detail.code?.allSatisfy(\.isWhitespace) == true { detail.code = nil }
        if detail.message?.allSatisfy(\.isWhitespace) == true { detail.message = nil }
        let code = classify(status: status, teamsCode: detail.code, message: detail.message)
        var retryAfter: Duration?
        if let value = headers.first(name: "retry-after") {
            retryAfter = RetryAfter.parse(value, now: nowEpochSeconds)
        }
        let message = detail.message ?? "HTTP \(status) from the Bot Connector"
        return BotConnectorError(
            code: code,
            httpStatus: status,
            teamsCode: detail.code ?? code.teamsName,
            message: message,
            retryAfter: retryAfter,
            correlationId: headers.first(name: "x-correlating-operationid")
        )
    }

    static func classify(status: Int, teamsCode: String?, message: String? = nil) -> Code {
        if status == 400 || status == 403, let message, Self.saysWrongRegion(message) { return .wrongRegion }
        switch status {
        // A redirect is not followed (it could carry the token to another host): Teams sends one to a
        // conversation's old geo.
        case 301, 302, 307, 308: return .wrongRegion
        case 400: return .badArgument
        case 401: return .unauthorized
        case 403:
            switch teamsCode {
            case Code.messageWritesBlocked.teamsName: return .messageWritesBlocked
            case Code.conversationBlockedByUser.teamsName: return .conversationBlockedByUser
            case Code.botNotInConversationRoster.teamsName: return .botNotInConversationRoster
            case Code.botDisabledByAdmin.teamsName: return .botDisabledByAdmin
            case Code.forbiddenOperation.teamsName: return .forbiddenOperation
            case Code.invalidBotApiHost.teamsName: return .invalidBotApiHost
            default: return .forbidden
            }
        case 404:
            switch teamsCode {
            case Code.conversationNotFound.teamsName: return .conversationNotFound
            case Code.activityNotFound.teamsName: return .activityNotFound
            default: return .notFound
            }
        case 412: return .preconditionFailed
        case 413: return .messageTooLarge
        case 429: return .throttled
        case 500: return .serviceError
        case 502: return .badGateway
        case 503: return .serviceUnavailable
        case 504: return .gatewayTimeout
        default: return .unexpectedStatus
        }
    }
}

extension BotConnectorError {
    /// Teams' message for a tenant reached through another geo's service URL: "User is from different region"
    /// (also seen as "... a different region").
    static func saysWrongRegion(_ message: String) -> Bool {
        let lowered = message.lowercased()
        return lowered.contains("different region")
    }
}

/// The code and message found in a Teams error body, whichever shape it has.
struct ErrorBody {
    var code: String?
    var message: String?

    static func parse(_ body: [UInt8]) -> ErrorBody {
        guard !body.isEmpty else { return ErrorBody() }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            return ErrorBody(code: nil, message: bounded(String(decoding: body, as: UTF8.self)))
        }
        var result = ErrorBody()
        if let error = object["error"] as? [String: Any] {
            result.code = error["code"] as? String
            result.message = error["message"] as? String
        } else {
            result.message = object["message"] as? String ?? object["Message"] as? String
            result.code = object["code"] as? String
        }
        // The `message` may itself be JSON carrying the real reason in `subCode` (errorCode 209 shape).
        if let message = result.message, message.hasPrefix("{"),
            let inner = (try? JSONSerialization.jsonObject(with: Data(message.utf8))) as? [String: Any]
        {
            if let subCode = inner["subCode"] as? String, !subCode.isEmpty { result.code = subCode }
            result.message = inner["details"] as? String ?? inner["message"] as? String ?? result.message
        }
        if result.code?.isEmpty == true { result.code = nil }
        result.message = result.message.map(bounded)
        return result
    }

    /// One line of at most 300 characters.
    private static func bounded(_ text: String) -> String {
        let line = text.map { $0.isNewline ? " " : $0 }
        return String(line.prefix(300))
    }
}
