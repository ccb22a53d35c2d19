extension TeamsEmulator {
    /// The Bot Framework OpenID metadata document the bot validates tokens with:
    /// `{origin}/emulator/openid/.well-known/openidconfiguration`. Its `jwks_uri` lists two keys: one endorsed for
    /// `msteams` (it signs valid tokens) and one endorsed only for `skype`.
    public var openIdMetadataURL: String { "\(self.origin)/emulator/\(EmulatorCore.openIdMetadataPath)" }

    /// The serviceUrl in every activity the emulator posts to the bot (`{origin}/teams/`): the Bot Connector API
    /// the bot answers through.
    public var inboundServiceURL: String { self.core.inboundServiceURL }

    /// A bearer token for the configured app id, as Teams puts it on an activity for the bot, valid or broken in the
    /// one way `kind` names.
    /// - Parameter serviceUrl: the `serviceurl` claim. Default: ``inboundServiceURL``
    public func botToken(_ kind: BotTokenKind = .valid, serviceUrl: String? = nil) -> String {
        self.core.botTokens.token(
            kind, appId: self.configuration.appId, serviceUrl: serviceUrl ?? self.inboundServiceURL)
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
    /// `serviceUrlClaim` (default: the activity's `serviceUrl`, else ``inboundServiceURL``).
    /// - Throws: ``BotDriveError`` with status 409 when no bot endpoint is configured.
    public func post(
        activity: [UInt8],
        token: BotTokenKind = .valid,
        serviceUrlClaim: String? = nil
    ) async throws(BotDriveError) -> BotDelivery {
        try await self.core.post(rawActivity: activity, token: token, serviceUrlClaim: serviceUrlClaim)
    }

    /// Every activity posted to the bot so far, in order, with the bot's last status and the attempts made.
    public func postedActivities() -> [PostedActivity] {
        self.core.state.withLock { $0.posted }
    }
}
