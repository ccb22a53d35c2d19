import Foundation

extension DriveBodies {
    struct Click: Decodable {
        struct From: Decodable {
            var id: String?
            var aadObjectId: String?
            var name: String?
        }

        var conversationId: String?
        var activityId: String?
        var verb: String?
        var title: String?
        var from: From?
        var data: JSONValue?
        var token: String?
        var locale: String?
        var timeZone: String?
    }

    /// `POST /emulator/click`: `{"conversationId", "activityId", "verb"?, "title"?, "from"?: {"id", "aadObjectId",
    /// "name"}, "data"?: {...}, "token"?, "locale"?, "timeZone"?}`. What needs the emulator's state (the button, a
    /// default `from`) is checked when the click is prepared.
    static func click(_ body: [UInt8]) throws(BotDriveError) -> TeamsClick {
        let shape: Click = try self.decode(Data(body))
        guard let conversationId = shape.conversationId, !conversationId.isEmpty else {
            throw .badInput("conversationId is required")
        }
        guard let activityId = shape.activityId, !activityId.isEmpty else { throw .badInput("activityId is required") }
        if let data = shape.data, data.object == nil { throw .badInput("data must be a JSON object") }
        return TeamsClick(
            conversationId: conversationId,
            activityId: activityId,
            verb: shape.verb,
            title: shape.title,
            from: shape.from.map { TeamsClick.User(id: $0.id, aadObjectId: $0.aadObjectId, name: $0.name) },
            data: shape.data?.json,
            token: try self.token(shape.token),
            locale: try self.locale(shape.locale),
            timeZone: try self.timeZone(shape.timeZone)
        )
    }
}
