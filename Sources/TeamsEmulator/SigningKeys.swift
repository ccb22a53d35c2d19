import Crypto
import CryptoExtras
import Foundation

/// The RSA keys the emulator signs bot tokens with, standing in for the Bot Framework's OpenID signing keys.
///
/// ``endorsed`` is endorsed for `msteams` and ``unendorsed`` only for `skype`; both are in the JWKS the emulator
/// serves. Tokens signed by a key no JWKS lists use a third key, made by ``BotTokens`` when first asked for.
struct SigningKeys: Sendable {
    /// One RSA-2048 key pair with its `kid`.
    struct Key: Sendable {
        var kid: String
        var privateKey: _RSA.Signing.PrivateKey
        var endorsements: [String]

        /// A fresh key pair with a random `kid`.
        init(endorsements: [String]) throws {
            self.kid = Base64URL.encode(Array(SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) }))
            self.privateKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            self.endorsements = endorsements
        }

        /// The public key as a JWKS entry: `kty`, `use`, `kid`, base64url `n` and `e`, `endorsements`.
        func jwk() throws -> String {
            let primitives = try self.privateKey.publicKey.getKeyPrimitives()
            let endorsements = self.endorsements.map(JSONText.quote).joined(separator: ",")
            return #"{"kty":"RSA","use":"sig","kid":\#(JSONText.quote(self.kid)),"#
                + #""n":"\#(Base64URL.encode(Array(primitives.modulus)))","#
                + #""e":"\#(Base64URL.encode(Array(primitives.publicExponent)))","#
                + #""endorsements":[\#(endorsements)]}"#
        }
    }

    /// Endorsed for `msteams`: signs valid tokens.
    var endorsed: Key
    /// In the JWKS but endorsed only for `skype`.
    var unendorsed: Key
    /// The JWKS document: the endorsed and the unendorsed key.
    var jwks: String

    /// Generates the two key pairs.
    init() throws {
        self.endorsed = try Key(endorsements: ["msteams"])
        self.unendorsed = try Key(endorsements: ["skype"])
        self.jwks = #"{"keys":[\#(try self.endorsed.jwk()),\#(try self.unendorsed.jwk())]}"#
    }

    /// The OpenID metadata document pointing at `jwksURI`.
    static func openIdMetadata(jwksURI: String) -> String {
        #"{"issuer":"https://api.botframework.com","authorization_endpoint":"https://invalid.botframework.com","#
            + #""jwks_uri":\#(JSONText.quote(jwksURI)),"id_token_signing_alg_values_supported":["RS256"],"#
            + #""token_endpoint_auth_methods_supported":["private_key_jwt"]}"#
    }
}

/// Base64url without padding (RFC 7515 §2), as JWTs and JWKS use it.
enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        text = text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    static func encode(_ text: String) -> String {
        self.encode(Array(text.utf8))
    }
}
