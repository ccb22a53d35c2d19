import Foundation
import NIOHTTP1

extension EmulatorState {
    /// 403 InvalidBotApiHost when a GCC tenant's call did not come through the GCC serviceUrl.
    func wrongHost(_ call: APICall) -> Reply? {
        guard !call.prefix.hasPrefix("/gcc") else { return nil }
        guard let tenantId = self.tenantId(of: call), self.configuration.gccTenants.contains(tenantId) else {
            return nil
        }
        return Self.error(.forbidden, "InvalidBotApiHost", "Invalid bot api host. Use the GCC service URL.")
    }

    /// A moved tenant's call through another geo's serviceUrl, refused as Teams refuses it; nil for calls
    /// through the tenant's new serviceUrl or a global one (no path, `/teams`).
    func wrongRegion(_ call: APICall) -> Reply? {
        guard let tenantId = self.tenantId(of: call), let moved = self.configuration.movedTenants[tenantId] else {
            return nil
        }
        let prefix = call.prefix.hasSuffix("/") ? call.prefix.dropLast() : call.prefix
        let movedPath = URL(string: moved)?.path ?? ""
        let movedPrefix = movedPath.hasSuffix("/") ? movedPath.dropLast() : Substring(movedPath)
        guard prefix != movedPrefix, !prefix.isEmpty, prefix != "/teams" else { return nil }
        switch self.configuration.movedTenantAnswer {
        case .forbidden: return Self.error(.forbidden, "BadArgument", "User is from different region")
        case .badRequest: return Self.error(.badRequest, "BadArgument", "User is from different region")
        case .redirect:
            return Reply(status: .temporaryRedirect, body: "", location: moved + "v3/conversations")
        }
    }

    /// The tenant a call is for: the created conversation's, or the addressed conversation's when it exists.
    private func tenantId(of call: APICall) -> String? {
        switch (call.route, call.body) {
        case (.create, .create(let info)): return info.tenantId
        case (.send(let id), _), (.update(let id, _), _), (.delete(let id, _), _), (.members(let id, _, _), _):
            return self.conversations[id]?.conversation.tenantId
        default: return nil
        }
    }

    /// A conversation create's answer field naming the serviceUrl to use from now on: a moved tenant's new one.
    func serviceUrlField(tenantId: String) -> String {
        guard let moved = self.configuration.movedTenants[tenantId] else { return "" }
        return #","serviceUrl":\#(JSONText.quote(moved))"#
    }

    /// A 403 when the recipient cannot be written to, else nil.
    func refusal(for record: ConversationRecord) -> Reply? {
        let conversation = record.conversation
        if self.configuration.disabledTenants.contains(conversation.tenantId) {
            return Self.error(.forbidden, "BotDisabledByAdmin", "The bot is disabled by the tenant admin.")
        }
        if self.configuration.removedFromConversations.contains(conversation.id)
            || conversation.channelId.map(self.configuration.removedFromConversations.contains) == true
        {
            return Self.error(
                .forbidden, "BotNotInConversationRoster", "The bot is not part of the conversation roster.")
        }
        if self.uninstalledFrom.contains(conversation.id)
            || conversation.channelId.map(self.uninstalledFrom.contains) == true
        {
            return Self.error(
                .forbidden, "BotNotInConversationRoster", "The bot is not part of the conversation roster.")
        }
        if !self.personalUninstalls.isEmpty,
            [conversation.userId, record.aadObjectId].contains(where: {
                $0.map(self.personalUninstalls.contains) == true
            })
        {
            // What Teams answers once a user has removed the bot from their personal scope.
            return Self.blocked(.messageWritesBlocked)
        }
        let lacksBot = self.lacksBot(userId: conversation.userId, aadObjectId: record.aadObjectId)
        for key in [conversation.userId, record.aadObjectId].compactMap({ $0 }) {
            if let shape = self.configuration.blocked[key] { return Self.blocked(shape) }
            if lacksBot && self.configuration.notInstalled.contains(key) { return self.notInstalledReply }
        }
        return nil
    }

    /// An injected failure (412, 429, 502, 503, 504 or a dropped connection) drawn at the configured rates.
    mutating func injectedFault() -> Reply? {
        let faults = self.configuration.faults
        guard faults.total > 0 else { return nil }
        var draw = self.random.unit()
        let table: [(Double, HTTPResponseStatus, String)] = [
            (faults.preconditionFailed, .preconditionFailed, "PreconditionFailed"),
            (faults.badGateway, .badGateway, "BadGateway"),
            (faults.serviceUnavailable, .serviceUnavailable, "ServiceUnavailable"),
            (faults.gatewayTimeout, .gatewayTimeout, "GatewayTimeout"),
            (faults.throttled, .tooManyRequests, "Throttled"),
        ]
        for (rate, status, code) in table {
            if draw < rate { return Self.error(status, code, "Injected fault.") }
            draw -= rate
        }
        if draw < faults.dropConnection {
            return Reply(status: .internalServerError, body: "", dropConnection: true)
        }
        return nil
    }
}
