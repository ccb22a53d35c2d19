/// The bearer tokens the emulator can put on an activity it posts to the bot: one valid token and tokens each
/// broken in exactly one way, for testing the bot's validation.
public enum BotTokenKind: String, Sendable, CaseIterable, Codable {
    /// Signed with the key endorsed for `msteams`; every claim right.
    case valid
    /// `exp` 10 minutes ago (beyond any clock skew).
    case expired
    /// `nbf` 10 minutes ahead.
    case notYetValid
    /// `aud` is not an app id at all.
    case wrongAudience
    /// `iss` is not `https://api.botframework.com`.
    case wrongIssuer
    /// Signed by a key the JWKS does not list (with a `kid` of its own).
    case unknownKey
    /// Signed by the JWKS key endorsed only for `skype`.
    case unendorsedKey
    /// `serviceurl` names another host than the activity's `serviceUrl`.
    case serviceUrlMismatch
    /// Valid in every way, but for another bot: `aud` is a different app id.
    case otherBot
    /// Header `alg: none` and an empty signature.
    case algNone
    /// Header `alg: HS256` with the endorsed key's `kid`, HMAC-SHA256 keyed with that key's public PEM: the
    /// key-confusion forgery.
    case hs256WithPublicKey
}
