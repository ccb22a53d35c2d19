extension EmulatorState {
    /// A team the app was installed in.
    struct InstalledTeam {
        var name: String?
        var aadGroupId: String
    }

    /// Where `install` happens: the user's personal chat (the one a Bot Connector create for them returns), the
    /// team's General channel (whose id is the team id), or the group chat; opened now when new, so that the bot
    /// can send there. Then the installation's effect on what the bot may send: a personal uninstall makes sends
    /// to the user 403 as blocked, a team or group chat uninstall makes sends there 403 BotNotInConversationRoster;
    /// installing again lifts both.
    mutating func place(for install: TeamsInstall) -> TeamsPlace {
        let objectId = install.user.aadObjectId
        let place: TeamsPlace
        switch install.scope {
        case .personal:
            let userId = self.teamsUserId(aadObjectId: objectId)
            let conversationId = self.openChat(userId: userId, aadObjectId: objectId, tenantId: install.tenantId)
            if let name = install.user.name { self.conversations[conversationId]?.userName = name }
            place = TeamsPlace(conversationId: conversationId, tenantId: install.tenantId, kind: .personal)
            switch install.action {
            case .add:
                self.personalInstalls.formUnion([userId, objectId])
                self.personalUninstalls.subtract([userId, objectId])
            case .remove:
                self.personalInstalls.subtract([userId, objectId])
                self.personalUninstalls.formUnion([userId, objectId])
            case .memberAdded, .memberRemoved:
                break
            }
            return place
        case .team:
            let teamId = install.team?.id ?? self.makeThreadId(suffix: "@thread.tacv2")
            var team =
                self.installedTeams[teamId] ?? InstalledTeam(name: nil, aadGroupId: self.makeUUID())
            if let name = install.team?.name { team.name = name }
            self.installedTeams[teamId] = team
            self.openGroup(teamId, tenantId: install.tenantId, channelId: teamId)
            let reference = TeamsActivity.Reference(id: teamId, name: team.name, aadGroupId: team.aadGroupId)
            place = TeamsPlace(
                conversationId: teamId, tenantId: install.tenantId, kind: .channel(team: reference, channelId: teamId))
        case .groupChat:
            let chatId = install.chatId ?? self.makeThreadId(suffix: "@thread.v2")
            self.openGroup(chatId, tenantId: install.tenantId, channelId: nil)
            place = TeamsPlace(conversationId: chatId, tenantId: install.tenantId, kind: .groupChat)
        }
        switch install.action {
        case .add: self.uninstalledFrom.remove(place.conversationId)
        case .remove: self.uninstalledFrom.insert(place.conversationId)
        case .memberAdded, .memberRemoved: break
        }
        return place
    }

    /// Where a user's message goes: the conversation named (a personal chat, a channel or channel thread, a group
    /// chat the emulator knows), else the user's personal chat.
    mutating func place(forMessage message: TeamsMessage) -> TeamsPlace? {
        guard let conversationId = message.conversationId else {
            let objectId = message.user.aadObjectId
            let userId = self.teamsUserId(aadObjectId: objectId)
            let conversationId = self.openChat(userId: userId, aadObjectId: objectId, tenantId: message.tenantId)
            if let name = message.user.name { self.conversations[conversationId]?.userName = name }
            return TeamsPlace(conversationId: conversationId, tenantId: message.tenantId, kind: .personal)
        }
        return self.place(ofConversation: conversationId)
    }

    /// A conversation the emulator knows (a personal chat, a channel or channel thread, a group chat) as Teams
    /// describes it; nil for one it does not know.
    func place(ofConversation conversationId: String) -> TeamsPlace? {
        guard let record = self.conversations[conversationId] else { return nil }
        let conversation = record.conversation
        if let channelId = conversation.channelId {
            // A channel thread of the General channel belongs to the team whose id the channel has.
            let team = self.installedTeams[channelId]
            let reference = TeamsActivity.Reference(id: channelId, name: team?.name, aadGroupId: team?.aadGroupId)
            return TeamsPlace(
                conversationId: conversationId, tenantId: conversation.tenantId,
                kind: .channel(team: reference, channelId: channelId))
        }
        let kind: TeamsPlace.Kind = conversation.isGroup ? .groupChat : .personal
        return TeamsPlace(conversationId: conversationId, tenantId: conversation.tenantId, kind: kind)
    }

    /// A group conversation (a team's channel, a group chat) the bot can send to, unless it exists already.
    private mutating func openGroup(_ id: String, tenantId: String, channelId: String?) {
        guard self.conversations[id] == nil else { return }
        let conversation = EmulatedConversation(
            id: id, tenantId: tenantId, isGroup: true, userId: nil, channelId: channelId)
        self.insert(ConversationRecord(conversation: conversation))
    }

    /// `19:{32 hex digits}{suffix}`, the shape of Teams' thread ids.
    private mutating func makeThreadId(suffix: String) -> String {
        "19:" + self.hex(self.random.next()) + self.hex(self.random.next()) + suffix
    }

    /// `f:{20 hex digits}`: the id of an event activity Teams posts to the bot.
    mutating func makeInboundActivityId() -> String {
        "f:" + self.hex(self.random.next()) + String(self.hex(self.random.next()).prefix(4))
    }

    private mutating func makeUUID() -> String {
        let digits = self.hex(self.random.next()) + self.hex(self.random.next())
        let parts = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { range in
            let start = digits.index(digits.startIndex, offsetBy: range.lowerBound)
            let end = digits.index(digits.startIndex, offsetBy: range.upperBound)
            return String(digits[start..<end])
        }
        return parts.joined(separator: "-")
    }

    private func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
