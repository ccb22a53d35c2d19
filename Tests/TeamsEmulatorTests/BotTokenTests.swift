import Foundation
import TeamsEmulator
import Testing

@Suite("The emulator's Bot Framework tokens and OpenID metadata")
struct BotTokenTests {
    @Test("the OpenID metadata points at a JWKS of two RSA keys, one endorsed for msteams, one for skype only")
    func metadataAndKeys() async throws {
        try await withEmulator { raw in
            let metadata = try await raw.request(.GET, "/emulator/openid/.well-known/openidconfiguration")
            #expect(metadata.status == 200)
            #expect(metadata.json["issuer"] as? String == "https://api.botframework.com")
            #expect(metadata.json["authorization_endpoint"] as? String == "https://invalid.botframework.com")
            #expect(metadata.json["jwks_uri"] as? String == raw.emulator.origin + "/emulator/openid/keys")
            #expect(metadata.json["id_token_signing_alg_values_supported"] as? [String] == ["RS256"])
            #expect(metadata.json["token_endpoint_auth_methods_supported"] as? [String] == ["private_key_jwt"])
            #expect(
                raw.emulator.openIdMetadataURL == raw.emulator.origin
                    + "/emulator/openid/.well-known/openidconfiguration")

            let jwks = try await raw.request(.GET, "/emulator/openid/keys")
            #expect(jwks.status == 200)
            let keys = try #require(jwks.json["keys"] as? [[String: Any]])
            #expect(keys.count == 2)
            for key in keys {
                #expect(key["kty"] as? String == "RSA")
                #expect(key["use"] as? String == "sig")
                #expect((key["kid"] as? String)?.isEmpty == false)
                let modulus = try #require(key["n"] as? String)
                #expect(!modulus.contains("=") && !modulus.contains("+") && !modulus.contains("/"), "base64url")
                #expect(TokenParts.bytes(modulus)?.count == 256, "2048 bits")
                #expect(key["e"] as? String == "AQAB")
            }
            #expect(keys.map { $0["endorsements"] as? [String] ?? [] } == [["msteams"], ["skype"]])
            #expect(Set(keys.compactMap { $0["kid"] as? String }).count == 2)

            let stats = try await raw.request(.GET, "/emulator/stats")
            #expect(stats.json["openIdMetadataRequests"] as? Int == 1)
            #expect(stats.json["jwksRequests"] as? Int == 1)
            #expect(raw.emulator.stats().jwksRequests == 1)
        }
    }

    @Test("the emulators of one process sign with the same keys, made once (RSA keys are slow to make)")
    func sharedKeys() async throws {
        let first = try await withEmulator { raw in try await raw.request(.GET, "/emulator/openid/keys").body }
        let second = try await withEmulator { raw in try await raw.request(.GET, "/emulator/openid/keys").body }
        #expect(first == second)
    }

    @Test("a valid token verifies with jwt-kit against the served JWKS and carries Teams' claims")
    func validToken() async throws {
        try await withEmulator { raw in
            let verifier = try await BotTokenVerifier.fetch(
                raw.emulator.openIdMetadataURL, appId: "app-id", http: raw.http)
            let token = raw.emulator.botToken()
            let claims = try #require(await verifier.verify(token, serviceUrl: raw.emulator.inboundServiceUrl))
            #expect(claims.iss.value == "https://api.botframework.com")
            #expect(claims.aud.value == ["app-id"])
            #expect(claims.serviceurl == raw.emulator.inboundServiceUrl)
            let now = Date()
            #expect(abs(claims.exp.value.timeIntervalSince(now) - 3600) < 10)
            #expect(abs(claims.nbf.value.timeIntervalSince(now) + 60) < 10)
            #expect(abs(claims.iat.value.timeIntervalSince(now)) < 10)
            let parts = try #require(TokenParts(token))
            #expect(parts.header["alg"] as? String == "RS256")
            #expect(parts.header["typ"] as? String == "JWT")
            #expect(verifier.endorsements[parts.header["kid"] as? String ?? ""] == ["msteams"])
            #expect(Set(parts.payload.keys) == ["iss", "aud", "exp", "nbf", "iat", "serviceurl"])
            #expect(raw.emulator.inboundServiceUrl == raw.emulator.origin + "/teams/")

            let elsewhere = raw.emulator.botToken(serviceUrl: "https://smba.trafficmanager.net/emea/")
            #expect(await verifier.verify(elsewhere, serviceUrl: "https://smba.trafficmanager.net/emea/") != nil)
        }
    }

    @Test("each broken kind differs from a valid token in its one way, and a gateway-like check rejects it")
    func brokenKinds() async throws {
        try await withEmulator { raw in
            let verifier = try await BotTokenVerifier.fetch(
                raw.emulator.openIdMetadataURL, appId: "app-id", http: raw.http)
            let serviceUrl = raw.emulator.inboundServiceUrl
            let valid = try #require(TokenParts(raw.emulator.botToken(.valid)))
            let endorsedKid = try #require(valid.header["kid"] as? String)
            let unendorsedKid = try #require(verifier.endorsements.first { $0.value == ["skype"] }?.key)
            let now = Date().timeIntervalSince1970

            for kind in BotTokenKind.allCases where kind != .valid {
                let token = raw.emulator.botToken(kind)
                #expect(await verifier.verify(token, serviceUrl: serviceUrl) == nil, "\(kind) is rejected")
                let parts = try #require(TokenParts(token), "\(kind)")
                var header = valid.header.mapValues { "\($0)" }
                var payload = valid.payload.mapValues { "\($0)" }
                // Times are compared apart, as they may tick between the two tokens.
                let times = ["exp", "nbf", "iat"].compactMap { parts.payload[$0] as? Double }
                #expect(times.count == 3, "\(kind)")
                for key in ["exp", "nbf", "iat"] { payload.removeValue(forKey: key) }
                let expiry = (parts.payload["exp"] as? Double ?? 0) - now
                let notBefore = (parts.payload["nbf"] as? Double ?? 0) - now
                switch kind {
                case .valid: break
                case .expired:
                    #expect(abs(expiry + 600) < 10)
                case .notYetValid:
                    #expect(abs(notBefore - 600) < 10)
                case .wrongAudience:
                    #expect(parts.payload["aud"] as? String != "app-id")
                    payload["aud"] = "\(parts.payload["aud"] ?? "")"
                case .wrongIssuer:
                    #expect(parts.payload["iss"] as? String != "https://api.botframework.com")
                    payload["iss"] = "\(parts.payload["iss"] ?? "")"
                case .unknownKey:
                    let kid = try #require(parts.header["kid"] as? String)
                    #expect(verifier.endorsements[kid] == nil, "a kid the JWKS does not list")
                    header["kid"] = kid
                case .unendorsedKey:
                    #expect(parts.header["kid"] as? String == unendorsedKid)
                    header["kid"] = unendorsedKid
                case .serviceUrlMismatch:
                    let claimed = try #require(parts.payload["serviceurl"] as? String)
                    #expect(URL(string: claimed)?.host != URL(string: serviceUrl)?.host)
                    payload["serviceurl"] = claimed
                case .otherBot:
                    let audience = try #require(parts.payload["aud"] as? String)
                    #expect(UUID(uuidString: audience) != nil, "another app id")
                    payload["aud"] = audience
                case .algNone:
                    #expect(parts.header["alg"] as? String == "none")
                    #expect(parts.signature.isEmpty)
                    header["alg"] = "none"
                case .hs256WithPublicKey:
                    #expect(parts.header["alg"] as? String == "HS256")
                    #expect(parts.header["kid"] as? String == endorsedKid)
                    #expect(TokenParts.bytes(parts.signature)?.count == 32, "an HMAC-SHA256")
                    header["alg"] = "HS256"
                }
                if kind != .expired { #expect(abs(expiry - 3600) < 10, "\(kind) exp") }
                if kind != .notYetValid { #expect(abs(notBefore + 60) < 10, "\(kind) nbf") }
                #expect(parts.header.mapValues { "\($0)" } == header, "\(kind) header")
                var actual = parts.payload.mapValues { "\($0)" }
                for key in ["exp", "nbf", "iat"] { actual.removeValue(forKey: key) }
                #expect(actual == payload, "\(kind) payload")
            }
        }
    }
}

extension TokenParts {
    /// Base64url text as bytes.
    static func bytes(_ text: String) -> [UInt8]? {
        var padded = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while padded.count % 4 != 0 { padded += "=" }
        return Data(base64Encoded: padded).map(Array.init)
    }
}
