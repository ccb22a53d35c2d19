import Foundation

/// The bodies of `POST /emulator/install`, `/emulator/message`, `/emulator/activity` and `/emulator/click`, checked
/// field by field so that a bad one gets a 400 naming the problem.
enum DriveBodies {
    struct User: Decodable {
        var aadObjectId: String?
        var name: String?
    }

    struct Install: Decodable {
        var scope: String?
        var action: String?
        var tenantId: String?
        var user: User?
        var team: TeamsInstall.Team?
        var chatId: String?
        var locale: String?
        var timeZone: String?
        var token: String?
        var upgrade: Bool?
    }

    struct Message: Decodable {
        var tenantId: String?
        var user: User?
        var text: String?
        var token: String?
        var conversationId: String?
        var locale: String?
        var timeZone: String?
    }

    static func install(_ body: Data) throws(BotDriveError) -> TeamsInstall {
        let shape: Install = try self.decode(body)
        guard let scopeName = shape.scope, let scope = TeamsInstall.Scope(rawValue: scopeName) else {
            throw .badInput("scope must be personal, team or groupChat")
        }
        guard let actionName = shape.action, let action = TeamsInstall.Action(rawValue: actionName) else {
            throw .badInput("action must be add, remove, memberAdded or memberRemoved")
        }
        if shape.upgrade == true && (action == .memberAdded || action == .memberRemoved) {
            throw .badInput("upgrade applies to add and remove only")
        }
        if let id = shape.team?.id, id.isEmpty { throw .badInput("team.id must not be empty") }
        if let chatId = shape.chatId, chatId.isEmpty { throw .badInput("chatId must not be empty") }
        if shape.team != nil && scope != .team { throw .badInput("team is for scope team only") }
        if shape.chatId != nil && scope != .groupChat { throw .badInput("chatId is for scope groupChat only") }
        return TeamsInstall(
            scope: scope,
            action: action,
            tenantId: try self.tenant(shape.tenantId),
            user: try self.user(shape.user),
            team: shape.team,
            chatId: shape.chatId,
            locale: try self.locale(shape.locale),
            timeZone: try self.timeZone(shape.timeZone),
            token: try self.token(shape.token),
            upgrade: shape.upgrade ?? false
        )
    }

    static func message(_ body: Data) throws(BotDriveError) -> TeamsMessage {
        let shape: Message = try self.decode(body)
        guard let text = shape.text, !text.isEmpty else { throw .badInput("text is required") }
        if let id = shape.conversationId, id.isEmpty { throw .badInput("conversationId must not be empty") }
        return TeamsMessage(
            tenantId: try self.tenant(shape.tenantId),
            user: try self.user(shape.user),
            text: text,
            token: try self.token(shape.token),
            conversationId: shape.conversationId,
            locale: try self.locale(shape.locale),
            timeZone: try self.timeZone(shape.timeZone)
        )
    }

    /// `POST /emulator/activity`: `{"activity": <any JSON, posted as written>, "token": kind?,
    /// "serviceUrlClaim": string?}`, or `"rawBody": string` instead of `activity` to post bytes that are not JSON.
    static func activity(_ body: [UInt8]) throws(BotDriveError) -> (body: [UInt8], BotTokenKind, String?) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw .badInput("The body must be a JSON object with activity (or rawBody)")
        }
        let claim = object["serviceUrlClaim"]
        guard claim == nil || claim is String else { throw .badInput("serviceUrlClaim must be a string") }
        let tokenName = object["token"]
        guard tokenName == nil || tokenName is String else { throw .badInput(self.tokenMessage) }
        let token = try self.token(tokenName as? String)
        if let raw = object["rawBody"] {
            guard let text = raw as? String, object["activity"] == nil else {
                throw .badInput("rawBody must be a string, given instead of activity")
            }
            return (Array(text.utf8), token, claim as? String)
        }
        guard object["activity"] != nil, let value = JSONMember.value("activity", in: body) else {
            throw .badInput("activity is required")
        }
        return (Array(value), token, claim as? String)
    }

    static func decode<T: Decodable>(_ body: Data) throws(BotDriveError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: body)
        } catch DecodingError.typeMismatch(_, let context) {
            throw .badInput("wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))")
        } catch {
            throw .badInput("The body must be a JSON object")
        }
    }

    private static func tenant(_ tenantId: String?) throws(BotDriveError) -> String {
        guard let tenantId, !tenantId.isEmpty else { throw .badInput("tenantId is required") }
        return tenantId
    }

    private static func user(_ user: User?) throws(BotDriveError) -> TeamsUser {
        guard let objectId = user?.aadObjectId, !objectId.isEmpty else {
            throw .badInput("user.aadObjectId is required")
        }
        return TeamsUser(aadObjectId: objectId, name: user?.name)
    }

    static func locale(_ locale: String?) throws(BotDriveError) -> String {
        guard let locale else { return "en-US" }
        guard !locale.isEmpty else { throw .badInput("locale must not be empty") }
        return locale
    }

    static func timeZone(_ timeZone: String?) throws(BotDriveError) -> String {
        guard let timeZone else { return "Europe/Berlin" }
        guard TimeZone(identifier: timeZone) != nil else {
            throw .badInput("timeZone must be an IANA time zone such as Europe/Berlin")
        }
        return timeZone
    }

    private static let tokenMessage =
        "token must be one of " + BotTokenKind.allCases.map(\.rawValue).joined(separator: ", ")

    static func token(_ name: String?) throws(BotDriveError) -> BotTokenKind {
        guard let name else { return .valid }
        guard let kind = BotTokenKind(rawValue: name) else { throw .badInput(self.tokenMessage) }
        return kind
    }
}
