import Foundation

/// Checks request bodies against the Bot Connector v3 schema shapes Herald's calls use; a violation is
/// a 400 BadArgument with a message naming the problem.
enum Validation {
    struct Failure: Error {
        var message: String
    }

    /// What the emulator needs from a valid activity body.
    struct ActivityInfo: Sendable {
        /// Text and attachments together: Teams posts two messages and returns no id.
        var splitsInTwo: Bool
    }

    /// What the emulator needs from valid `ConversationParameters`.
    struct CreateInfo: Sendable {
        enum Target: Sendable {
            case user(id: String)
            case userAADObjectId(String)
            case channel(id: String)
        }

        var target: Target
        var tenantId: String
        /// The first activity's JSON, when one was given.
        var activity: [UInt8]?
    }

    private static let activityTypes: Set<String> = [
        "message", "contactRelationUpdate", "conversationUpdate", "typing", "endOfConversation", "event", "invoke",
        "deleteUserData", "messageUpdate", "messageDelete", "installationUpdate", "messageReaction", "suggestion",
        "trace", "handoff",
    ]

    static func activity(_ body: [UInt8]) -> Result<ActivityInfo, Failure> {
        let shape: ActivityShape
        do {
            shape = try JSONDecoder().decode(ActivityShape.self, from: Data(body))
        } catch {
            return .failure(Failure(message: "The activity is not a valid Activity object: \(describe(error))"))
        }
        return self.check(shape)
    }

    private static func check(_ shape: ActivityShape) -> Result<ActivityInfo, Failure> {
        guard let type = shape.type, !type.isEmpty else {
            return .failure(Failure(message: "Activity type is required"))
        }
        guard self.activityTypes.contains(type) else {
            return .failure(Failure(message: "Unknown activity type"))
        }
        let hasText = !(shape.text ?? "").isEmpty
        let attachments = shape.attachments ?? []
        if type == "message" && !hasText && attachments.isEmpty {
            return .failure(Failure(message: "A message activity needs text or attachments"))
        }
        for attachment in attachments where attachment.contentType == "application/vnd.microsoft.card.adaptive" {
            guard let card = attachment.content else {
                return .failure(Failure(message: "An Adaptive Card attachment needs content"))
            }
            guard card.type == "AdaptiveCard" else {
                return .failure(Failure(message: "Adaptive Card content must have type AdaptiveCard"))
            }
            if let version = card.version, !self.supportedCardVersion(version) {
                return .failure(Failure(message: "Adaptive Card version must be at most 1.5"))
            }
        }
        return .success(ActivityInfo(splitsInTwo: hasText && !attachments.isEmpty))
    }

    static func createConversation(_ body: [UInt8]) -> Result<CreateInfo, Failure> {
        let shape: ConversationParametersShape
        do {
            shape = try JSONDecoder().decode(ConversationParametersShape.self, from: Data(body))
        } catch {
            return .failure(Failure(message: "Invalid ConversationParameters: \(describe(error))"))
        }
        guard let tenantId = shape.tenantId ?? shape.channelData?.tenant?.id, !tenantId.isEmpty else {
            return .failure(Failure(message: "A tenant id is required (tenantId or channelData.tenant.id)"))
        }
        var activityBytes: [UInt8]?
        if let activity = shape.activity {
            if case .failure(let failure) = self.check(activity) { return .failure(failure) }
            activityBytes = self.subObject("activity", of: body)
        }
        if shape.isGroup == true {
            guard let channelId = shape.channelData?.channel?.id, !channelId.isEmpty else {
                return .failure(Failure(message: "A channel thread needs channelData.channel.id"))
            }
            guard activityBytes != nil else {
                return .failure(Failure(message: "A channel thread needs a first activity"))
            }
            return .success(CreateInfo(target: .channel(id: channelId), tenantId: tenantId, activity: activityBytes))
        }
        guard let members = shape.members, members.count == 1 else {
            return .failure(
                Failure(message: "A 1:1 conversation needs exactly one member (group chats cannot be created)"))
        }
        let member = members[0]
        if let id = member.id, !id.isEmpty {
            return .success(CreateInfo(target: .user(id: id), tenantId: tenantId, activity: activityBytes))
        }
        if let objectId = member.aadObjectId, !objectId.isEmpty {
            return .success(CreateInfo(target: .userAADObjectId(objectId), tenantId: tenantId, activity: activityBytes))
        }
        return .failure(Failure(message: "The member needs an id or an aadObjectId"))
    }

    /// Whether Teams renders a card of this `version`: 1.5 at most.
    static func supportedCardVersion(_ version: String) -> Bool {
        let parts = version.split(separator: ".")
        guard parts.count >= 1, parts.count <= 2, let major = Int(parts[0]) else { return false }
        let minor = parts.count == 2 ? Int(parts[1]) : 0
        guard let minor else { return false }
        return major < 1 || (major == 1 && minor <= 5)
    }

    private static func subObject(_ key: String, of body: [UInt8]) -> [UInt8]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let value = object[key], let data = try? JSONSerialization.data(withJSONObject: value)
        else { return nil }
        return Array(data)
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.keyNotFound(let key, _):
            return "missing \(key.stringValue)"
        default:
            return "malformed JSON"
        }
    }
}
