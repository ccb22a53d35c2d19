extension TeamsEmulator {
    /// The Bot Framework OpenID metadata document the bot validates tokens with:
    /// `{origin}/emulator/openid/.well-known/openidconfiguration`. Its `jwks_uri` lists two keys: one endorsed for
    /// `msteams` (it signs valid tokens) and one endorsed only for `skype`.
    public var openIdMetadataURL: String { "\(self.origin)/emulator/\(EmulatorCore.openIdMetadataPath)" }

    /// The serviceUrl in every activity the emulator posts to the bot (`{origin}/teams/`): the Bot Connector API
    /// the bot answers through.
    public var inboundServiceUrl: String { self.core.inboundServiceUrl }

    /// A bearer token for the configured app id, as Teams puts it on an activity for the bot, valid or broken in the
    /// one way `kind` names.
    /// - Parameter serviceUrl: the `serviceurl` claim. Default: ``inboundServiceUrl``
    public func botToken(_ kind: BotTokenKind = .valid, serviceUrl: String? = nil) -> String {
        self.core.botTokens.token(
            kind, appId: self.configuration.appId, serviceUrl: serviceUrl ?? self.inboundServiceUrl)
    }

    /// Posts what Teams posts when `install` happens to the bot's messaging endpoint (see ``TeamsInstall``), and
    /// opens the conversation it happens in so the bot can send there.
    /// - Throws: ``BotDriveError`` with status 409 when no bot endpoint is configured.
    public func install(_ install: TeamsInstall) async throws(BotDriveError) -> BotDelivery {
        try await self.core.install(install)
    }

    /// Posts a user's message to the bot.
    /// - Throws: ``BotDriveError``: 409 without a bot endpoint, 404 for a conversation the emulator does not know.
    public func message(_ message: TeamsMessage) async throws(BotDriveError) -> BotDelivery {
        try await self.core.message(message)
    }

    /// Posts `activity` to the bot byte for byte, with a token of `token`'s kind whose `serviceurl` claim is
    /// `serviceUrlClaim` (default: the activity's `serviceUrl`, else ``inboundServiceUrl``).
    /// - Throws: ``BotDriveError`` with status 409 when no bot endpoint is configured.
    public func post(
        activity: [UInt8],
        token: BotTokenKind = .valid,
        serviceUrlClaim: String? = nil
    ) async throws(BotDriveError) -> BotDelivery {
        try await self.core.post(rawActivity: activity, token: token, serviceUrlClaim: serviceUrlClaim)
    }

    /// Presses a button of the card in activity `click.activityId`, as the user `click.from` does in Teams (see
    /// ``TeamsClick``): an Action.Execute posts an `adaptiveCard/action` invoke and reads the bot's answer within
    /// ``EmulatorConfiguration/invokeTimeout`` (a card replaces the one pressed); an Action.Submit posts a
    /// `message` with the button's data as `value`. Both carry `replyToId`.
    /// - Throws: ``BotDriveError``: 409 without a bot endpoint; 404 for an unknown conversation, an activity not
    ///   there or deleted, no matching button; 400 for bad input or an activity without an Adaptive Card; 502 when
    ///   the bot could not be reached.
    public func click(_ click: TeamsClick) async throws(BotDriveError) -> ClickResult {
        try await self.core.click(click)
    }

    /// The activity `activityId` of a conversation as it stands (its last send or update: a card a click or the
    /// bot replaced included); nil when the conversation or the activity is unknown or the activity was deleted.
    public func activity(_ activityId: String, in conversationId: String) -> RecordedActivity? {
        self.core.state.withLock { $0.conversations[conversationId]?.conversation.activity(activityId) }
    }

    /// Every activity posted to the bot so far, in order, with the bot's last status and the attempts made.
    public func postedActivities() -> [PostedActivity] {
        self.core.state.withLock { $0.posted }
    }
}
