/// The parts of the Bot Connector schema the emulator checks; unknown fields are ignored, as Teams does.
struct ActivityShape: Decodable {
    var type: String?
    var id: String?
    var text: String?
    var textFormat: String?
    var summary: String?
    var attachments: [AttachmentShape]?
    var channelData: ChannelDataShape?
    var from: AccountShape?
    var recipient: AccountShape?
    var replyToId: String?
}

struct AttachmentShape: Decodable {
    var contentType: String
    var content: CardShape?
    var contentUrl: String?
    var name: String?
}

/// Any JSON object; Adaptive Cards are checked for `type` and `version`.
struct CardShape: Decodable {
    var type: String?
    var version: String?

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        self.type = try? container.decodeIfPresent(String.self, forKey: AnyKey(stringValue: "type")!)
        self.version = try? container.decodeIfPresent(String.self, forKey: AnyKey(stringValue: "version")!)
    }
}

struct ChannelDataShape: Decodable {
    var tenant: IdShape?
    var channel: IdShape?
    var team: IdShape?
    var notification: NotificationShape?
}

struct NotificationShape: Decodable {
    var alert: Bool?
}

struct IdShape: Decodable {
    var id: String
}

struct AccountShape: Decodable {
    var id: String?
    var name: String?
    var aadObjectId: String?
}

struct ConversationParametersShape: Decodable {
    var isGroup: Bool?
    var bot: AccountShape?
    var members: [AccountShape]?
    var topicName: String?
    var tenantId: String?
    var channelData: ChannelDataShape?
    var activity: ActivityShape?
}
