import Foundation

/// The fields of an activity from Teams that the gateway reads; everything else is ignored. Each field decodes
/// leniently (a value of the wrong type reads as absent), so a field Teams adds or changes cannot make a
/// well-signed activity unreadable.
struct InboundActivity: Decodable, Sendable {
    struct Account: Decodable, Sendable, Hashable {
        var id: String?
        var aadObjectId: String?
        var name: String?

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            id = c.lenient("id")
            aadObjectId = c.lenient("aadObjectId")
            name = c.lenient("name")
        }
    }

    struct Conversation: Decodable, Sendable {
        var id: String?
        var conversationType: String?
        var tenantId: String?
        var isGroup: Bool?

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            id = c.lenient("id")
            conversationType = c.lenient("conversationType")
            tenantId = c.lenient("tenantId")
            isGroup = c.lenient("isGroup")
        }
    }

    struct Named: Decodable, Sendable {
        /// Never empty: an empty id names nothing.
        var id: String?
        var name: String?

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            id = c.lenient("id").flatMap { (id: String) in id.isEmpty ? nil : id }
            name = c.lenient("name")
        }
    }

    struct ChannelData: Decodable, Sendable {
        var tenant: Named?
        var team: Named?
        var channel: Named?
        var eventType: String?

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            tenant = c.lenient("tenant")
            team = c.lenient("team")
            channel = c.lenient("channel")
            eventType = c.lenient("eventType")
        }
    }

    struct Entity: Decodable, Sendable {
        var type: String?
        var locale: String?
        var timezone: String?

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            type = c.lenient("type")
            locale = c.lenient("locale")
            timezone = c.lenient("timezone")
        }
    }

    var type: String?
    var id: String?
    var timestamp: String?
    var serviceUrl: String?
    var channelId: String?
    var from: Account?
    var recipient: Account?
    var conversation: Conversation?
    var channelData: ChannelData?
    var action: String?
    var membersAdded: [Account]?
    var membersRemoved: [Account]?
    var text: String?
    var locale: String?
    var localTimezone: String?
    var entities: [Entity]?
    /// An invoke's name (`adaptiveCard/action`).
    var name: String?
    var replyToId: String?
    /// Whether the activity has a `value` (a button's data); read with the rest of the body when it does.
    var hasValue: Bool

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        type = c.lenient("type")
        id = c.lenient("id")
        timestamp = c.lenient("timestamp")
        serviceUrl = c.lenient("serviceUrl")
        channelId = c.lenient("channelId")
        from = c.lenient("from")
        recipient = c.lenient("recipient")
        conversation = c.lenient("conversation")
        channelData = c.lenient("channelData")
        action = c.lenient("action")
        membersAdded = c.lenient("membersAdded")
        membersRemoved = c.lenient("membersRemoved")
        text = c.lenient("text")
        locale = c.lenient("locale")
        localTimezone = c.lenient("localTimezone")
        entities = c.lenient("entities")
        name = c.lenient("name")
        replyToId = c.lenient("replyToId")
        hasValue = c.contains(Key(stringValue: "value"))
    }

    /// Any JSON object key.
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The tenant, lower-cased: the conversation's, else channel data's.
    var tenantId: String {
        (conversation?.tenantId.flatMap { $0.isEmpty ? nil : $0 } ?? channelData?.tenant?.id ?? "").lowercased()
    }

    /// The client's locale: the activity's, else its `clientInfo` entity's.
    var clientLocale: String? {
        locale ?? entities?.first(where: { $0.type == "clientInfo" })?.locale
    }

    /// The client's IANA time zone: the activity's `localTimezone`, else its `clientInfo` entity's.
    var clientTimeZone: String? {
        localTimezone ?? entities?.first(where: { $0.type == "clientInfo" })?.timezone
    }
}

extension KeyedDecodingContainer where Key == InboundActivity.Key {
    /// The value at `key`, nil when absent, null or of another type.
    func lenient<T: Decodable>(_ key: String) -> T? {
        try? decodeIfPresent(T.self, forKey: InboundActivity.Key(stringValue: key))
    }
}
