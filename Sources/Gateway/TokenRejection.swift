/// Why a request's bearer token was refused (a label of `herald_gateway_token_failures_total`). The client only
/// ever sees 401; the reason is for operators.
public enum TokenRejection: String, Error, Sendable, Hashable, CaseIterable {
    /// No `Authorization` header.
    case missing
    /// Not `Bearer <token>`.
    case notBearer
    /// Not a compact JWS with a JSON header and payload.
    case malformed
    /// Not RS256 (`none`, HS256 and every other algorithm are refused before any key is used).
    case algorithm
    /// No `kid`, or a key id the OpenID metadata does not list (after a refresh, when one was allowed).
    case unknownKey
    /// The signature does not verify with the named key.
    case signature
    /// `exp` missing or past (beyond the skew).
    case expired
    /// `nbf` in the future (beyond the skew).
    case notYetValid
    /// `aud` is not the bot's app id.
    case audience
    /// `iss` is not the Bot Framework's.
    case issuer
    /// The signing key is not endorsed for the activity's channel.
    case endorsement
    /// The token's `serviceurl` claim is not the activity's `serviceUrl`.
    case serviceUrl
}
