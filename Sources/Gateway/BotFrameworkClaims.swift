import JWTKit

/// The claims of a token the Bot Connector sends with each activity. Every check is made by
/// ``BotTokenValidator`` after the signature is verified, with the configured skew; this type only decodes.
struct BotFrameworkClaims: JWTPayload {
    var iss: String?
    var aud: Audience?
    var exp: Double?
    var nbf: Double?
    /// The service URL the token was issued for (Teams spells it in lower case).
    var serviceurl: String?

    func verify(using algorithm: some JWTAlgorithm) async throws {}

    /// `aud` is a string or a list of strings.
    struct Audience: Codable, Sendable {
        var values: [String]

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let single = try? container.decode(String.self) {
                values = [single]
            } else {
                values = try container.decode([String].self)
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(values)
        }
    }
}
