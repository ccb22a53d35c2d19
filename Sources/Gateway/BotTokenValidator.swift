import Foundation
import JWTKit
import Synchronization

/// Checks the bearer token of a request from the Bot Connector, as Microsoft's "authenticate requests from the
/// Bot Connector service" lists: RS256 only; signed by a key of the Bot Framework's OpenID metadata; issuer and
/// audience (the bot's app id) exact; `exp`/`nbf` within the skew; then, once the activity is read, the key
/// endorsed for the activity's `channelId` and the `serviceurl` claim equal to its `serviceUrl`.
///
/// Signatures are verified by JWTKit; this type decides which key may be used and what the claims must say.
public struct BotTokenValidator: Sendable {
    /// What a token proved, to be checked against the activity it came with.
    public struct Verified: Sendable {
        public var serviceUrl: String?
        let endorsements: Set<String>
    }

    /// The token could not be checked.
    public enum Failure: Error, Sendable {
        case rejected(TokenRejection)
        /// The signing keys are not known and could not be read (answer 503, not 401).
        case keysUnavailable(String)
    }

    let keys: OpenIDKeyCache
    let verified = VerifiedTokens()
    let appId: String
    let issuers: Set<String>
    let skew: TimeInterval
    let now: @Sendable () -> Date

    /// Longest `Authorization` value read.
    static let maxTokenBytes = 16 * 1024

    public init(
        keys: OpenIDKeyCache, appId: String, issuers: Set<String>, skew: Duration = .seconds(300),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.keys = keys
        self.appId = appId
        self.issuers = issuers
        self.skew = TimeInterval(skew.components.seconds)
        self.now = now
    }

    /// Checks the `Authorization` header value: the token's signature and claims.
    public func verify(authorization: String?) async throws(Failure) -> Verified {
        guard let authorization, !authorization.isEmpty else { throw .rejected(.missing) }
        guard authorization.utf8.count <= Self.maxTokenBytes else { throw .rejected(.malformed) }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw .rejected(.notBearer) }
        let now = self.now().timeIntervalSince1970
        // The Bot Connector sends one token with many activities: a token verified before needs only its times
        // checked again (its signature, key, issuer and audience cannot have changed: it is the same bytes).
        if let known = verified.lookup(parts[1]) {
            try checkTimes(exp: known.exp, nbf: known.nbf, now: now)
            return known.token
        }
        let token = Array(parts[1].utf8)
        let header: JWTHeader
        do {
            header = try DefaultJWTParser().parse(token, as: BotFrameworkClaims.self).header
        } catch {
            throw .rejected(.malformed)
        }
        // Before any key is touched: `none`, HS256 (a public key used as an HMAC secret) and the rest are refused.
        guard header.alg == "RS256" else { throw .rejected(.algorithm) }
        guard let kid = header.kid, !kid.isEmpty else { throw .rejected(.unknownKey) }
        let key: OpenIDKeyCache.Key?
        do {
            key = try await keys.key(kid)
        } catch {
            throw .keysUnavailable(error.description)
        }
        guard let key else { throw .rejected(.unknownKey) }
        let claims: BotFrameworkClaims
        do {
            claims = try await key.collection.verify(token, as: BotFrameworkClaims.self)
        } catch {
            throw .rejected(.signature)
        }
        try checkTimes(exp: claims.exp, nbf: claims.nbf, now: now)
        guard let iss = claims.iss, issuers.contains(iss) else { throw .rejected(.issuer) }
        guard let audiences = claims.aud?.values, audiences.contains(appId) else { throw .rejected(.audience) }
        let result = Verified(serviceUrl: claims.serviceurl, endorsements: key.endorsements)
        if let exp = claims.exp { verified.store(parts[1], .init(token: result, exp: exp, nbf: claims.nbf)) }
        return result
    }

    private func checkTimes(exp: Double?, nbf: Double?, now: TimeInterval) throws(Failure) {
        guard let exp, now <= exp + skew else { throw .rejected(.expired) }
        if let nbf, now + skew < nbf { throw .rejected(.notYetValid) }
    }

    /// Checks what only the activity can tell: the key's endorsement for its channel, and its service URL.
    public func check(_ token: Verified, channelId: String?, serviceUrl: String?) throws(TokenRejection) {
        guard let channelId, token.endorsements.contains(channelId) else { throw .endorsement }
        guard let claimed = token.serviceUrl, let serviceUrl, Self.sameServiceUrl(claimed, serviceUrl) else {
            throw .serviceUrl
        }
    }

    /// Equal but for a trailing slash and the case of scheme and host.
    static func sameServiceUrl(_ a: String, _ b: String) -> Bool {
        func normalized(_ s: String) -> String {
            var s = Substring(s)
            while s.hasSuffix("/") { s = s.dropLast() }
            guard let schemeEnd = s.range(of: "://") else { return String(s) }
            let afterScheme = s[schemeEnd.upperBound...]
            let hostEnd = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
            return s[..<hostEnd].lowercased() + s[hostEnd...]
        }
        return normalized(a) == normalized(b)
    }
}

/// Tokens whose signature and claims were verified, by their exact text, until they expire. Bounded: when full it
/// starts again empty (a token not found is simply verified again).
final class VerifiedTokens: Sendable {
    struct Entry: Sendable {
        var token: BotTokenValidator.Verified
        var exp: Double
        var nbf: Double?
    }

    static let capacity = 1024
    private let entries = Mutex<[Substring: Entry]>([:])

    func lookup(_ token: Substring) -> Entry? {
        entries.withLock { $0[token] }
    }

    func store(_ token: Substring, _ entry: Entry) {
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = entry
        }
    }
}
