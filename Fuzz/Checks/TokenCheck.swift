import JWTKit

@testable import Gateway

/// The gateway's reading of a bearer token before any key is touched: jwt-kit's parse of the header and Herald's
/// Bot Framework claims, from any bytes, without a crash; and the service-URL comparison the token's claim goes
/// through is reflexive and symmetric for any two strings.
///
/// Input: the token, a newline, and two service URLs separated by a newline.
enum TokenCheck {
    static func check(_ bytes: [UInt8]) throws(PropertyViolation) {
        let lines = bytes.split(separator: 0x0A, maxSplits: 2, omittingEmptySubsequences: false)
        let token = lines.first.map(Array.init) ?? []
        // Refused or read, never a crash: what the validator does before it looks for a key.
        _ = try? DefaultJWTParser().parse(token, as: BotFrameworkClaims.self)
        let first = lines.count > 1 ? String(decoding: lines[1], as: UTF8.self) : ""
        let second = lines.count > 2 ? String(decoding: lines[2], as: UTF8.self) : ""
        guard BotTokenValidator.sameServiceUrl(first, first), BotTokenValidator.sameServiceUrl(second, second) else {
            throw PropertyViolation(.token, "a service URL differs from itself: \(excerpt(bytes))")
        }
        guard BotTokenValidator.sameServiceUrl(first, second) == BotTokenValidator.sameServiceUrl(second, first) else {
            throw PropertyViolation(.token, "the service-URL comparison is not symmetric: \(excerpt(bytes))")
        }
    }
}
