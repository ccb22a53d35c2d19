import Crypto
import Foundation
import Routing

/// Turns an authenticated activity into ``GatewayWork``: the references, tombstones, blocked marks and
/// interaction events it means. Pure: no I/O, the same activity always gives the same work (event ids derive
/// from the activity, so a retried activity is the same event and a route on it runs once).
///
/// - `installationUpdate` `add`: the reference and `herald.teams.app.installed`; `remove`: a tombstone (team, group
///   chat) or a blocked mark (personal) and `herald.teams.app.uninstalled`. The `-upgrade` variants refresh the
///   reference only (a new app version is not a new install: no second welcome).
/// - `conversationUpdate`: the bot added refreshes the reference (the install itself is announced by
///   `installationUpdate`, which Teams sends with it); the bot removed or `teamDeleted` forgets it; users added or
///   removed are one `herald.teams.members.added` / `removed` event each.
/// - `message`: the reference is refreshed, `herald.teams.message` published, and the configured reply sent.
/// - anything else: nothing.
struct ActivityTranslator: Sendable {
    let appId: String
    let replyToMessages: String

    /// Longest message text carried in an event.
    static let maxTextBytes = 4096

    func translate(_ activity: InboundActivity, body: [UInt8], receivedAt: Date) -> GatewayWork {
        var work = GatewayWork()
        guard let context = Context(activity, body: body, receivedAt: receivedAt) else {
            work.ignored = "no conversation id, tenant, team id or http(s) serviceUrl"
            return work
        }
        switch activity.type {
        case "installationUpdate":
            installation(activity, context, into: &work)
        case "conversationUpdate":
            membership(activity, context, into: &work)
        case "message":
            work.references.append(reference(activity, context, user: context.personalUser))
            work.events.append(event(.message, activity, context, user: activity.from, text: messageText(activity)))
            if !replyToMessages.isEmpty, context.scope == .personal { work.reply = replyToMessages }
        default:
            work.ignored = "activity type \(activity.type.map { String($0.prefix(40)) } ?? "missing")"
        }
        return work
    }

    private func installation(_ activity: InboundActivity, _ context: Context, into work: inout GatewayWork) {
        switch activity.action {
        case "add":
            let ref = reference(activity, context, user: context.personalUser)
            work.references.append(ref)
            if context.scope == .personal { work.unblocked.append(ref.key) }
            work.events.append(event(.appInstalled, activity, context, user: activity.from))
        case "add-upgrade":
            work.references.append(reference(activity, context, user: context.personalUser))
        case "remove":
            forget(context, activity, into: &work)
            work.events.append(event(.appUninstalled, activity, context, user: activity.from))
        default:
            work.ignored = "installationUpdate action \(activity.action.map { String($0.prefix(40)) } ?? "missing")"
        }
    }

    private func membership(_ activity: InboundActivity, _ context: Context, into work: inout GatewayWork) {
        let added = activity.membersAdded ?? []
        let removed = activity.membersRemoved ?? []
        if activity.channelData?.eventType == "teamDeleted" || removed.contains(where: isBot) {
            forget(context, activity, into: &work)
        } else if !added.isEmpty || activity.channelData?.eventType == "teamRenamed" {
            work.references.append(reference(activity, context, user: context.personalUser))
        }
        for member in added where !isBot(member) && context.scope != .personal {
            work.events.append(event(.membersAdded, activity, context, user: member, member: member.id))
        }
        for member in removed where !isBot(member) && context.scope != .personal {
            work.events.append(event(.membersRemoved, activity, context, user: member, member: member.id))
        }
        if work.isEmpty { work.ignored = "conversationUpdate with nothing to record" }
    }

    private func forget(_ context: Context, _ activity: InboundActivity, into work: inout GatewayWork) {
        let key = Self.referenceKey(context, user: context.personalUser)
        if context.scope == .personal { work.blocked.append(key) } else { work.tombstones.append(key) }
    }

    private func isBot(_ account: InboundActivity.Account) -> Bool {
        guard let id = account.id else { return false }
        return id == "28:\(appId)" || id == appId
    }

    private func messageText(_ activity: InboundActivity) -> String? {
        guard let text = activity.text else { return nil }
        guard text.utf8.count > Self.maxTextBytes else { return text }
        var end = text.utf8.index(text.utf8.startIndex, offsetBy: Self.maxTextBytes)
        while !text.unicodeScalars.indices.contains(end) { end = text.utf8.index(before: end) }
        return String(text[..<end])
    }

    // MARK: References

    private func reference(
        _ activity: InboundActivity, _ context: Context, user: InboundActivity.Account?
    ) -> GatewayWork.Reference {
        let key = Self.referenceKey(context, user: user)
        // A team's reference is its General channel (whose id is the team's), whichever channel or thread the
        // activity came from: what Herald posts to the team goes there as a new thread.
        let conversationId =
            context.scope == .team ? (context.team?.id ?? context.conversationId) : context.conversationId
        let channel = context.scope == .team ? InteractionEvent.Named(id: conversationId, name: nil) : nil
        let record = ReferenceRecord(
            key: key,
            reference: .init(
                activityId: activity.id, user: user.map(Self.person),
                bot: activity.recipient.map(Self.person),
                conversation: .init(
                    id: conversationId, tenantId: context.tenantId,
                    conversationType: context.scope.conversationType, isGroup: context.scope != .personal),
                // A personal chat's reader is its user; in a team or group chat the sender is one of many readers,
                // so their locale is not the conversation's (the default template is used there).
                serviceUrl: context.serviceUrl, locale: context.scope == .personal ? activity.clientLocale : nil,
                localTimezone: activity.clientTimeZone,
                channelData: .init(tenant: .init(id: context.tenantId, name: nil), team: context.team, channel: channel)
            ))
        return GatewayWork.Reference(key: key, json: (try? Array(JSONEncoder.gatewayRecords.encode(record))) ?? [])
    }

    /// The keys `herald references import` gives: `user:aad:<tenant>/<aadObjectId>` (or `user:id:`) for a personal
    /// chat, `team:<tenant>/<teamId>` for a team, `conversation:<id>` for a group chat.
    static func referenceKey(_ context: Context, user: InboundActivity.Account?) -> String {
        switch context.scope {
        case .personal:
            if let aad = user?.aadObjectId, !aad.isEmpty { return "user:aad:\(context.tenantId)/\(aad.lowercased())" }
            if let id = user?.id, !id.isEmpty { return "user:id:\(context.tenantId)/\(id)" }
            return "conversation:\(context.conversationId)"
        case .team:
            return "team:\(context.tenantId)/\(context.team?.id ?? context.conversationId)"
        case .groupChat:
            return "conversation:\(context.conversationId)"
        }
    }

    // MARK: Events

    /// The event of a pressed button: `herald.teams.optout`, `optin`, `acknowledged` for Herald's verbs,
    /// `herald.teams.card.action` for any other; `user` is who pressed it (the activity's sender).
    func cardActionEvent(_ action: CardAction, _ activity: InboundActivity, _ context: Context) -> InteractionEvent {
        let kind: InteractionEvent.Kind =
            switch action.verb {
            case CardVerb.optOut: .optedOut
            case CardVerb.optIn: .optedIn
            case CardVerb.ack: .acknowledged
            default: .cardAction
            }
        let optingOut = kind == .optedOut || kind == .optedIn
        let origin = action.origin
        let info = InteractionEvent.Action(
            verb: action.verb.isEmpty ? nil : action.verb,
            buttonType: action.kind == .execute ? "Action.Execute" : "Action.Submit", route: origin?.route,
            deliveryId: origin?.deliveryId, notificationKey: origin?.notificationKey, eventId: origin?.eventId,
            scope: optingOut ? (action.scopeIsAll ? "all" : "route") : nil,
            data: optingOut ? nil : EncodableJSON(value: action.data), activityId: action.replyToId)
        return event(kind, activity, context, user: activity.from, action: info)
    }

    private func event(
        _ kind: InteractionEvent.Kind, _ activity: InboundActivity, _ context: Context,
        user: InboundActivity.Account?, member: String? = nil, text: String? = nil,
        action: InteractionEvent.Action? = nil
    ) -> InteractionEvent {
        let referenceKey: String? =
            switch kind {
            case .appUninstalled where context.scope != .personal: nil
            default: Self.referenceKey(context, user: context.personalUser)
            }
        let data = InteractionEvent.Data(
            tenantId: context.tenantId, scope: context.scope.rawValue, user: user.map(Self.person), team: context.team,
            channel: context.channel,
            conversation: .init(id: context.conversationId, type: context.scope.conversationType),
            serviceUrl: context.serviceUrl, referenceKey: referenceKey, locale: activity.clientLocale,
            timeZone: activity.clientTimeZone, text: text,
            actor: member == nil ? nil : activity.from.map(Self.person), action: action)
        return InteractionEvent(
            id: Self.eventId(context, kind: kind, member: member), source: "/teams/\(context.tenantId)",
            type: kind.rawValue, subject: user?.aadObjectId?.lowercased(), time: context.time, data: data)
    }

    /// Derived from the tenant, the activity's id (or, without one, the whole body), the type and the member:
    /// a retried activity gives the same id.
    static func eventId(_ context: Context, kind: InteractionEvent.Kind, member: String?) -> String {
        let material = [context.tenantId, context.activityKey, kind.rawValue, member ?? ""].joined(separator: "\n")
        let digest = SHA256.hash(data: Array(material.utf8))
        return "teams-" + digest.prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    static func person(_ account: InboundActivity.Account) -> InteractionEvent.Person {
        InteractionEvent.Person(id: account.id, aadObjectId: account.aadObjectId?.lowercased(), name: account.name)
    }

    // MARK: Context

    enum Scope: String, Sendable {
        case personal, team, groupChat

        var conversationType: String {
            switch self {
            case .personal: "personal"
            case .team: "channel"
            case .groupChat: "groupChat"
            }
        }
    }

    /// What every activity of a conversation says about where it happened.
    struct Context: Sendable {
        var tenantId: String
        var conversationId: String
        var serviceUrl: String
        var scope: Scope
        var team: InteractionEvent.Named?
        var channel: InteractionEvent.Named?
        /// The user of a personal chat (the activity's sender), nil elsewhere.
        var personalUser: InboundActivity.Account?
        var activityKey: String
        var time: String

        init?(_ activity: InboundActivity, body: [UInt8], receivedAt: Date) {
            // Where Herald would later send: an http(s) URL, as the reference importer requires (the token's
            // serviceUrl claim was checked against it already).
            guard let conversationId = activity.conversation?.id, !conversationId.isEmpty,
                let serviceUrl = activity.serviceUrl,
                let scheme = URL(string: serviceUrl)?.scheme?.lowercased(), scheme == "https" || scheme == "http"
            else { return nil }
            let tenant = activity.tenantId
            guard !tenant.isEmpty else { return nil }
            self.tenantId = tenant
            self.conversationId = conversationId
            self.serviceUrl = serviceUrl
            switch activity.conversation?.conversationType {
            case "channel": scope = .team
            case "groupChat": scope = .groupChat
            case "personal": scope = .personal
            default: scope = activity.conversation?.isGroup == true ? .groupChat : .personal
            }
            if scope == .team {
                // The team's id, else the channel conversation's id before `;messageid=`: a team without one has
                // no General channel to write a reference for.
                let prefix = conversationId.prefix { $0 != ";" }
                guard let teamId = activity.channelData?.team?.id ?? (prefix.isEmpty ? nil : String(prefix)) else {
                    return nil
                }
                team = .init(id: teamId, name: activity.channelData?.team?.name)
                let channelId = activity.channelData?.channel?.id ?? teamId
                channel = .init(id: channelId, name: activity.channelData?.channel?.name)
            }
            personalUser = scope == .personal ? activity.from : nil
            if let id = activity.id, !id.isEmpty {
                activityKey = "id:" + id
            } else {
                activityKey = "body:" + SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined()
            }
            time = Self.time(activity.timestamp) ?? Self.format(receivedAt)
        }

        /// The activity's `timestamp` when it is an RFC 3339 date-time in UTC (as Teams sends it, with up to
        /// seven fraction digits), unchanged.
        static func time(_ text: String?) -> String? {
            guard let text, isRFC3339UTC(text.utf8) else { return nil }
            return text
        }

        /// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`.
        static func isRFC3339UTC(_ bytes: String.UTF8View) -> Bool {
            let shape = Array("dddd-dd-ddTdd:dd:dd".utf8)
            let text = Array(bytes)
            guard text.count >= shape.count + 1, text.count <= 40, text.last == UInt8(ascii: "Z") else {
                return false
            }
            for (index, expected) in shape.enumerated() {
                let byte = text[index]
                if expected == UInt8(ascii: "d") {
                    guard (0x30...0x39).contains(byte) else { return false }
                } else if byte != expected {
                    return false
                }
            }
            let rest = text[shape.count..<(text.count - 1)]
            guard let first = rest.first else { return true }
            return first == UInt8(ascii: ".") && rest.count > 1
                && rest.dropFirst().allSatisfy { (0x30...0x39).contains($0) }
        }

        static func format(_ date: Date) -> String {
            Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
        }
    }
}

/// A Bot Framework `ConversationReference` as the SDKs serialize it, wrapped with its key.
struct ReferenceRecord: Encodable {
    struct Conversation: Encodable {
        var id: String
        var tenantId: String
        var conversationType: String
        var isGroup: Bool
    }

    struct ChannelData: Encodable {
        var tenant: InteractionEvent.Named
        var team: InteractionEvent.Named?
        var channel: InteractionEvent.Named?
    }

    struct Reference: Encodable {
        var activityId: String?
        var user: InteractionEvent.Person?
        var bot: InteractionEvent.Person?
        var conversation: Conversation
        var channelId = "msteams"
        var serviceUrl: String
        var locale: String?
        var localTimezone: String?
        var channelData: ChannelData
    }

    var key: String
    var reference: Reference
}
