/// One entry point that reads bytes from strangers, and the properties it must keep for any input.
///
/// The same checks run under libFuzzer (`scripts/fuzz.sh`, the `herald-fuzz` driver built with
/// `-sanitize=fuzzer,address`) and in the ordinary test suite, which replays every committed corpus input and every
/// regression input through them.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// Herald's JSON parser against Foundation's `JSONSerialization`: the same inputs accepted, the same values.
    case json
    /// Event records, structured and binary mode with headers: decoding a decoded event's re-encoding gives the
    /// same event and the same bytes.
    case event
    /// A card template rendered with any event data: valid JSON with the template's structure.
    case template
    /// `${...}` expressions and text templates: compile or refuse with an error, and evaluate without a crash.
    case expression
    /// Routes YAML: routes or problems that say where, never a crash.
    case routes
    /// Configuration YAML: a configuration or problems that say where, never a crash.
    case config
    /// Bot Connector and Graph error responses (both body shapes, `Retry-After`): a classified error.
    case teamsError = "teams-error"
    /// One line of a conversation-reference import (`herald references import`, the references topic).
    case reference
    /// An activity POSTed to the gateway's `/api/messages`, read and translated into references and events.
    case activity
    /// A bearer token as the gateway reads it before touching a key, and the service-URL comparison of its claim.
    case token

    /// Runs the check; throws when a property does not hold.
    public func check(_ bytes: [UInt8]) throws(PropertyViolation) {
        switch self {
        case .json: try JSONCheck.check(bytes)
        case .event: try EventCheck.check(bytes)
        case .template: try TemplateCheck.check(bytes)
        case .expression: try ExpressionCheck.check(bytes)
        case .routes: try YAMLChecks.routes(bytes)
        case .config: try YAMLChecks.config(bytes)
        case .teamsError: try TeamsErrorCheck.check(bytes)
        case .reference: try ReferenceCheck.check(bytes)
        case .activity: try ActivityCheck.check(bytes)
        case .token: try TokenCheck.check(bytes)
        }
    }
}

/// A property a fuzz target checks did not hold for an input.
public struct PropertyViolation: Error, CustomStringConvertible, Sendable {
    public var target: FuzzTarget
    public var message: String

    public init(_ target: FuzzTarget, _ message: String) {
        self.target = target
        self.message = message
    }

    public var description: String { "\(target.rawValue): \(message)" }
}

/// The first `limit` characters of `bytes` as text, for a violation's message.
func excerpt(_ bytes: [UInt8], limit: Int = 120) -> String {
    String(decoding: bytes.prefix(limit), as: UTF8.self).debugDescription
}

/// `name:value` lines up to a blank line, then the rest: how the targets that take headers lay out their input.
func headerLines(_ bytes: ArraySlice<UInt8>) -> (headers: [(name: String, value: [UInt8])], rest: ArraySlice<UInt8>) {
    var headers: [(name: String, value: [UInt8])] = []
    var rest = bytes
    while let newline = rest.firstIndex(of: 0x0A) {
        let line = rest[rest.startIndex..<newline]
        rest = rest[rest.index(after: newline)...]
        if line.isEmpty { break }
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
        let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
        headers.append((name, colon == line.endIndex ? [] : Array(line[line.index(after: colon)...])))
    }
    return (headers, rest)
}
