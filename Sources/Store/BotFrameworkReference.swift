import Foundation

/// Reads Bot Framework `ConversationReference` JSON exactly as the Bot Framework SDKs serialize it:
///
/// ```json
/// {"activityId": "...", "user": {"id": "29:...", "aadObjectId": "...", "name": "..."},
///  "bot": {"id": "28:...", "name": "..."},
///  "conversation": {"id": "a:1...", "tenantId": "...", "conversationType": "personal", "isGroup": false},
///  "channelId": "msteams", "serviceUrl": "https://smba.trafficmanager.net/emea/"}
/// ```
///
/// optionally wrapped as `{"key": "K", "reference": {...}}`. Without a key, the default key is:
/// - a personal chat with an AAD object id and a tenant: `user:aad:<tenant>/<aadObjectId>` (lower-cased), the
///   ``Recipient`` identity of `user: {aadObjectId, tenantId}`, so a route addressing the user finds it;
/// - a personal chat with only a user id: `user:id:<tenant>/<userId>`;
/// - anything else: `conversation:<conversation id>`.
public enum BotFrameworkReference {
    /// Largest line accepted.
    public static let maxLineBytes = 64 * 1024

    /// A line that is not a usable reference.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// 1-based line number, when known.
        public var line: Int?
        public var message: String

        public var description: String { line.map { "line \($0): \(message)" } ?? message }
    }

    private struct Wrapper: Decodable {
        var key: String?
        var reference: Reference?
    }

    private struct Reference: Decodable {
        struct Account: Decodable {
            var id: String?
            var aadObjectId: String?
            var name: String?
        }

        struct Conversation: Decodable {
            var id: String?
            var tenantId: String?
            var conversationType: String?
            var isGroup: Bool?
        }

        struct ChannelData: Decodable {
            struct Id: Decodable { var id: String? }
            var team: Id?
            var channel: Id?
            var tenant: Id?
        }

        var activityId: String?
        var user: Account?
        var bot: Account?
        var conversation: Conversation?
        var channelId: String?
        var serviceUrl: String?
        var channelData: ChannelData?
        /// The client's locale when the reference was captured (the gateway writes it; Bot Framework SDKs do
        /// from 4.x on as `locale`).
        var locale: String?
    }

    /// Parses one line (JSON object); `key` overrides the wrapper's or default key. `line` numbers errors.
    public static func parse(
        _ text: some StringProtocol, key: String? = nil, line: Int? = nil, now: Date = Date()
    ) throws(ParseError) -> ConversationReference {
        func fail(_ message: String) -> ParseError { ParseError(line: line, message: message) }
        let data = Data(text.utf8)
        guard data.count <= maxLineBytes else { throw fail("longer than \(maxLineBytes) bytes") }
        guard data.first(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0D) }) == UInt8(ascii: "{") else {
            throw fail("not a JSON object")
        }
        let decoder = JSONDecoder()
        let wrapper: Wrapper
        let reference: Reference
        do {
            wrapper = try decoder.decode(Wrapper.self, from: data)
            reference = try wrapper.reference ?? decoder.decode(Reference.self, from: data)
        } catch let error as DecodingError {
            throw fail("not a conversation reference: \(describe(error))")
        } catch {
            throw fail("not valid JSON")
        }
        guard let conversation = reference.conversation, let conversationId = nonEmpty(conversation.id) else {
            throw fail("conversation.id is missing")
        }
        guard let serviceUrl = nonEmpty(reference.serviceUrl),
            let scheme = URL(string: serviceUrl)?.scheme?.lowercased(), scheme == "https" || scheme == "http"
        else { throw fail("serviceUrl is missing or not an http(s) URL") }
        if let channel = reference.channelId, channel != "msteams" {
            throw fail("channelId is \(channel.prefix(40)), not msteams")
        }
        let tenant = (nonEmpty(conversation.tenantId) ?? nonEmpty(reference.channelData?.tenant?.id) ?? "").lowercased()
        let scope: ConversationReference.Scope
        switch conversation.conversationType {
        case "channel": scope = .channel
        case "groupChat": scope = .groupChat
        case "personal": scope = .personal
        case nil: scope = conversation.isGroup == true ? .groupChat : .personal
        case let other?:
            throw fail("conversation.conversationType \(other.prefix(40)) is not personal, groupChat or channel")
        }
        let user = scope == .personal ? reference.user : nil
        let channelId =
            scope == .channel
            ? nonEmpty(reference.channelData?.channel?.id)
                ?? String(conversationId.split(separator: ";", maxSplits: 1).first ?? Substring(conversationId))
            : nil
        let resolvedKey =
            nonEmpty(key) ?? nonEmpty(wrapper.key)
            ?? defaultKey(
                scope: scope, tenant: tenant, user: user?.id, aad: user?.aadObjectId, conversation: conversationId)
        let result = ConversationReference(
            key: resolvedKey, conversationId: conversationId, serviceUrl: serviceUrl, tenantId: tenant,
            userId: nonEmpty(user?.id), aadObjectId: nonEmpty(user?.aadObjectId), channelId: channelId,
            teamId: nonEmpty(reference.channelData?.team?.id), scope: scope, botId: nonEmpty(reference.bot?.id),
            updatedAt: now, locale: nonEmpty(reference.locale).flatMap(Self.locale))
        do {
            try result.validate()
        } catch {
            throw fail(error.message)
        }
        return result
    }

    /// The key a reference gets without an explicit one (see the type's documentation).
    static func defaultKey(
        scope: ConversationReference.Scope, tenant: String, user: String?, aad: String?, conversation: String
    ) -> String {
        if scope == .personal, let aad = nonEmpty(aad), !tenant.isEmpty {
            return "user:aad:\(tenant)/\(aad.lowercased())"
        }
        if scope == .personal, let user = nonEmpty(user) { return "user:id:\(tenant)/\(user)" }
        return "conversation:\(conversation)"
    }

    /// A client locale kept only when it looks like a BCP 47 tag (letters, digits, `-`, `_`, at most 35 bytes);
    /// anything else is dropped rather than failing the reference: the default template is used instead.
    public static func locale(_ value: String) -> String? {
        guard !value.isEmpty, value.utf8.count <= 35,
            value.utf8.allSatisfy({
                ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D || $0 == 0x5F
            }),
            value.utf8.first.map({ $0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A }) == true
        else { return nil }
        return value
    }

    private static func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.isEmpty else { return nil }
        return s
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "wrong shape" : "\(path) has the wrong type"
        case .dataCorrupted: return "not valid JSON"
        @unknown default: return "wrong shape"
        }
    }
}
