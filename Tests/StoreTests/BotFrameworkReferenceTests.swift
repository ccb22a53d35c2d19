import Foundation
import Store
import Testing

@Suite("Bot Framework conversation references")
struct BotFrameworkReferenceTests {
    static let personal = """
        {"activityId":"1700000000000","user":{"id":"29:1abc","aadObjectId":"6C1D-AAD","name":"Ada"},\
        "bot":{"id":"28:bot-id","name":"Herald"},"conversation":{"id":"a:1xyz","tenantId":"72F988BF-TENANT",\
        "conversationType":"personal","isGroup":false},"channelId":"msteams",\
        "serviceUrl":"https://smba.trafficmanager.net/emea/"}
        """

    @Test func personalChatsAreKeyedLikeTheRecipientIdentity() throws {
        let r = try BotFrameworkReference.parse(Self.personal)
        #expect(r.key == "user:aad:72f988bf-tenant/6c1d-aad")
        #expect(r.scope == .personal)
        #expect(r.conversationId == "a:1xyz")
        #expect(r.tenantId == "72f988bf-tenant")
        #expect(r.userId == "29:1abc")
        #expect(r.botId == "28:bot-id")
        #expect(r.serviceUrl == "https://smba.trafficmanager.net/emea/")
    }

    @Test func theClientsLocaleIsKeptWhenItIsATagAndDroppedOtherwise() throws {
        let withLocale = Self.personal.dropLast() + #","locale":"de-AT"}"#
        #expect(try BotFrameworkReference.parse(withLocale).locale == "de-AT")
        #expect(try BotFrameworkReference.parse(Self.personal).locale == nil)
        for hostile in ["de AT", "'; DROP TABLE x", String(repeating: "a", count: 36), "", "-de", "dé"] {
            let line = Self.personal.dropLast() + #","locale":"# + "\(JSONValueLiteral(hostile))}"
            let parsed = try BotFrameworkReference.parse(line)
            #expect(parsed.locale == nil, "\(hostile) is not a locale; the reference is still kept")
            #expect(parsed.conversationId == "a:1xyz")
        }
    }

    @Test func wrappedReferencesKeepTheirKey() throws {
        let r = try BotFrameworkReference.parse("{\"key\":\"oncall-payments\",\"reference\":\(Self.personal)}")
        #expect(r.key == "oncall-payments")
        #expect(try BotFrameworkReference.parse(Self.personal, key: "from-kafka").key == "from-kafka")
    }

    @Test func channelAndGroupConversationsAreKeyedByConversationId() throws {
        let channel = try BotFrameworkReference.parse(
            """
            {"bot":{"id":"28:b"},"conversation":{"id":"19:abc@thread.tacv2;messageid=123","tenantId":"t",\
            "conversationType":"channel","isGroup":true},"channelId":"msteams","serviceUrl":"https://s.example/"}
            """)
        #expect(channel.key == "conversation:19:abc@thread.tacv2;messageid=123")
        #expect(channel.scope == .channel)
        #expect(channel.channelId == "19:abc@thread.tacv2")
        let group = try BotFrameworkReference.parse(
            #"{"conversation":{"id":"19:g@thread.v2","isGroup":true},"serviceUrl":"https://s.example/"}"#)
        #expect(group.scope == .groupChat)
        #expect(group.userId == nil)
    }

    @Test(arguments: [
        ("", "not a JSON object"),
        ("[1,2]", "not a JSON object"),
        ("{\"conversation\":", "not valid JSON"),
        ("{}", "conversation.id is missing"),
        (#"{"conversation":{"id":"a:1"}}"#, "serviceUrl"),
        (#"{"conversation":{"id":"a:1"},"serviceUrl":"ftp://x/"}"#, "serviceUrl"),
        (#"{"conversation":{"id":"a:1"},"serviceUrl":"https://x/","channelId":"slack"}"#, "not msteams"),
        (#"{"conversation":{"id":"a:1","conversationType":"meeting"},"serviceUrl":"https://x/"}"#, "conversationType"),
        (#"{"conversation":{"id":42},"serviceUrl":"https://x/"}"#, "conversation.id has the wrong type"),
    ])
    func hostileLinesGetAClearErrorWithTheirLineNumber(_ line: String, _ message: String) {
        #expect {
            _ = try BotFrameworkReference.parse(line, line: 7)
        } throws: { error in
            let description = "\(error)"
            return description.hasPrefix("line 7: ") && description.contains(message)
        }
    }

    @Test func oversizedAndDeeplyNestedInputIsRefusedWithoutCrashing() {
        let big = "{\"conversation\":{\"id\":\"" + String(repeating: "x", count: 70_000) + "\"}}"
        #expect(throws: BotFrameworkReference.ParseError.self) { try BotFrameworkReference.parse(big) }
        let deep = String(repeating: "{\"a\":", count: 5_000) + "1" + String(repeating: "}", count: 5_000)
        #expect(throws: BotFrameworkReference.ParseError.self) { try BotFrameworkReference.parse(deep) }
    }
}

@Suite("Store URLs")
struct StoreURLTests {
    @Test func passwordsNeverAppearInRedactedURLsOrErrors() throws {
        let url = "postgres://herald:s3cret@db.internal:6432/herald?sslmode=require"
        #expect(StoreURL.redact(url) == "postgres://herald:***@db.internal:6432/herald?sslmode=require")
        let parsed = try StoreURL(parsing: url)
        guard case .postgres(let p) = parsed else { Issue.record("not postgres"); return }
        #expect(p.password == "s3cret")
        #expect(p.port == 6432)
        #expect(p.sslMode == "require")
        #expect(!parsed.redacted.contains("s3cret"))
        let error = #expect(throws: StoreError.self) { try StoreURL(parsing: "postgres://herald:s3cret@db/x?bogus=1") }
        #expect(error?.code == .badURL)
        #expect(error.map { !"\($0)".contains("s3cret") } == true)
    }

    @Test func sqliteNeedsAnAbsolutePath() throws {
        #expect(
            try StoreURL(parsing: "sqlite:///var/lib/herald/h.db")
                == .sqlite(path: "/var/lib/herald/h.db", synchronous: .full))
        #expect(
            try StoreURL(parsing: "sqlite:///tmp/h.db?synchronous=normal")
                == .sqlite(path: "/tmp/h.db", synchronous: .normal))
        #expect(throws: StoreError.self) { try StoreURL(parsing: "sqlite://relative.db") }
        #expect(throws: StoreError.self) { try StoreURL(parsing: "mysql://x/y") }
    }
}

/// `value` as a JSON string literal.
private func JSONValueLiteral(_ value: String) -> String {
    String(decoding: try! JSONEncoder().encode(value), as: UTF8.self)
}
