import NIOHTTP1

@testable import BotConnector

/// A Bot Connector or Graph error response: any status, headers and body classify into an error with a message,
/// and a `Retry-After` of any form is a wait of zero or more, never a crash.
///
/// Input: two bytes of status (mapped into 100...599), then `name:value` header lines up to a blank line, then
/// the body.
enum TeamsErrorCheck {
    static func check(_ bytes: [UInt8]) throws(PropertyViolation) {
        guard bytes.count >= 2 else { return }
        let status = 100 + (Int(bytes[0]) << 8 | Int(bytes[1])) % 500
        var headers = HTTPHeaders()
        let (lines, rest) = headerLines(bytes.dropFirst(2))
        for (name, value) in lines where !name.isEmpty && name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            headers.add(name: name, value: String(decoding: value, as: UTF8.self))
        }
        var error = BotConnectorError.fromResponse(
            status: status, headers: headers, body: Array(rest), nowEpochSeconds: 1_780_000_000)
        guard !error.message.isEmpty, !error.teamsCode.isEmpty else {
            throw PropertyViolation(.teamsError, "an error without a message or code for \(excerpt(bytes))")
        }
        if let wait = error.retryAfter, wait < .zero {
            throw PropertyViolation(.teamsError, "a negative Retry-After for \(excerpt(bytes))")
        }
        if status == 403 {
            GraphClient.classifyForbidden(&error, tenantId: "fuzz-tenant")
            guard !error.message.isEmpty else { throw PropertyViolation(.teamsError, "a Graph 403 without a message") }
        }
    }
}
