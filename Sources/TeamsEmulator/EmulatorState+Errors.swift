import NIOHTTP1

extension EmulatorState {
    /// An `ErrorResponse`: `{"error":{"code":...,"message":...}}`.
    static func error(_ status: HTTPResponseStatus, _ code: String, _ message: String) -> Reply {
        Reply(
            status: status, body: #"{"error":{"code":\#(JSONText.quote(code)),"message":\#(JSONText.quote(message))}}"#)
    }

    static let badArgument = error(.badRequest, "BadArgument", "The request body is missing or not valid.")
    static let conversationNotFound = error(.notFound, "ConversationNotFound", "Conversation not found.")
    static let notInstalled = error(
        .forbidden,
        "ForbiddenOperationException",
        "Bot is not installed in user's personal scope"
    )

    /// What a user without the app gets: ForbiddenOperationException, or a bare 403 when so configured.
    var notInstalledReply: Reply {
        self.configuration.notInstalledWithoutCode ? Reply(status: .forbidden, body: "") : Self.notInstalled
    }

    /// The 403 a recipient who blocked the bot gets, in the shape configured for them.
    static func blocked(_ shape: EmulatorConfiguration.BlockShape) -> Reply {
        switch shape {
        case .messageWritesBlocked:
            return Reply(
                status: .forbidden,
                body:
                    #"{"errorCode":209,"message":"{\"subCode\":\"MessageWritesBlocked\",\"details\":\"Thread is blocked from message writes.\",\"errorCode\":null,\"errorSubCode\":null}"}"#
            )
        case .conversationBlockedByUser:
            return error(.forbidden, "ConversationBlockedByUser", "User blocked the conversation with the bot.")
        case .noSubCode:
            return Reply(
                status: .forbidden,
                body:
                    #"{"errorCode":209,"message":"{\"subCode\":null,\"details\":\"Forbidden.\",\"errorCode\":null,\"errorSubCode\":null}"}"#
            )
        }
    }
}

/// JSON string literals for the emulator's hand-written bodies.
enum JSONText {
    static func quote(_ value: String) -> String {
        var out = "\""
        out.reserveCapacity(value.utf8.count + 2)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }
}
