import Crypto
import CryptoExtras
import Foundation
import Synchronization

/// Mints the bearer tokens Teams (through the Bot Connector) puts on the activities it posts to a bot.
///
/// A valid token: header `{"alg":"RS256","kid":...,"typ":"JWT"}`, claims `iss` `https://api.botframework.com`,
/// `aud` the bot's app id, `exp` now + 1 h, `nbf` now − 1 min, `iat` now, `serviceurl` the activity's
/// serviceUrl. Each other ``BotTokenKind`` differs from it in one way only.
///
/// The keys are generated on first use, not when the emulator binds, and once per process: RSA-2048 keys take a
/// good part of a second in a debug build (seconds on a busy machine, holding a thread of the cooperative pool),
/// which every emulator of every test would otherwise pay. The key outside the JWKS is made only for the first
/// ``BotTokenKind/unknownKey`` token.
final class BotTokens: Sendable {
    static let issuer = "https://api.botframework.com"
    /// The `serviceurl` of ``BotTokenKind/serviceUrlMismatch`` tokens.
    static let foreignServiceUrl = "https://smba.attacker.invalid/teams/"
    /// The `iss` of ``BotTokenKind/wrongIssuer`` tokens: another Microsoft issuer.
    static let foreignIssuer = "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"
    /// The `aud` of ``BotTokenKind/wrongAudience`` tokens: not an app id.
    static let foreignAudience = "https://graph.microsoft.com"

    /// Shared by every emulator of the process (a process runs one emulator, or tests run many).
    private static let generated = Mutex<SigningKeys?>(nil)
    private static let unknown = Mutex<SigningKeys.Key?>(nil)

    /// The signing keys, generated now if this is their first use; nil if generating them failed (it does not
    /// with BoringSSL and a 2048-bit size).
    var keys: SigningKeys? {
        Self.generated.withLock { keys in
            if keys == nil { keys = try? SigningKeys() }
            return keys
        }
    }

    /// A key no JWKS lists (with a `kid` of its own), generated now if this is its first use.
    private var unknownKey: SigningKeys.Key? {
        Self.unknown.withLock { key in
            if key == nil { key = try? SigningKeys.Key(endorsements: ["msteams"]) }
            return key
        }
    }

    /// A token of `kind` for the bot `appId`, for an activity whose serviceUrl is `serviceUrl` (empty should the
    /// keys be missing).
    func token(_ kind: BotTokenKind, appId: String, serviceUrl: String, now: Date = Date()) -> String {
        guard let keys = self.keys else { return "" }
        let seconds = Int(now.timeIntervalSince1970)
        var issuer = Self.issuer
        var audience = appId
        var expiry = seconds + 3600
        var notBefore = seconds - 60
        var claimedServiceUrl = serviceUrl
        var key = keys.endorsed
        switch kind {
        case .valid, .algNone, .hs256WithPublicKey: break
        case .expired: expiry = seconds - 600
        case .notYetValid: notBefore = seconds + 600
        case .wrongAudience: audience = Self.foreignAudience
        case .wrongIssuer: issuer = Self.foreignIssuer
        case .unknownKey:
            guard let unknown = self.unknownKey else { return "" }
            key = unknown
        case .unendorsedKey: key = keys.unendorsed
        case .serviceUrlMismatch: claimedServiceUrl = Self.foreignServiceUrl
        case .otherBot: audience = UUID().uuidString.lowercased()
        }
        let payload =
            #"{"iss":\#(JSONText.quote(issuer)),"aud":\#(JSONText.quote(audience)),"exp":\#(expiry),"#
            + #""nbf":\#(notBefore),"iat":\#(seconds),"serviceurl":\#(JSONText.quote(claimedServiceUrl))}"#
        let alg: String
        switch kind {
        case .algNone: alg = "none"
        case .hs256WithPublicKey: alg = "HS256"
        default: alg = "RS256"
        }
        let header = #"{"alg":"\#(alg)","kid":\#(JSONText.quote(key.kid)),"typ":"JWT"}"#
        let signingInput = Base64URL.encode(header) + "." + Base64URL.encode(payload)
        return signingInput + "." + Self.signature(kind, over: signingInput, key: key)
    }

    private static func signature(_ kind: BotTokenKind, over input: String, key: SigningKeys.Key) -> String {
        switch kind {
        case .algNone:
            return ""
        case .hs256WithPublicKey:
            let secret = SymmetricKey(data: Data(key.privateKey.publicKey.pemRepresentation.utf8))
            let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: secret)
            return Base64URL.encode(Array(mac))
        default:
            // Signing with a freshly generated 2048-bit key and PKCS#1 v1.5 does not fail; an empty signature
            // (which no verifier accepts) is the answer should it ever.
            let signature = try? key.privateKey.signature(
                for: SHA256.hash(data: Data(input.utf8)), padding: .insecurePKCS1v1_5)
            return signature.map { Base64URL.encode(Array($0.rawRepresentation)) } ?? ""
        }
    }
}
