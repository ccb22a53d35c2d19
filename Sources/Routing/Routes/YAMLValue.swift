import HeraldJSON
import Yams

/// YAML nodes as JSON values: plain scalars typed as YAML 1.2's core schema does, quoted scalars as strings.
public enum YAMLValue {
    public static func json(_ node: Node) -> JSONValue {
        switch node {
        case .scalar(let s):
            guard s.style == .plain else { return .string(s.string) }
            switch s.string {
            case "", "~", "null", "Null", "NULL": return .null
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            default: break
            }
            if let i = Int(s.string) { return .number(Double(i)) }
            if let d = Double(s.string), s.string.contains(where: { $0.isNumber }), !s.string.hasPrefix("0x") {
                return .number(d)
            }
            return .string(s.string)
        case .sequence(let seq):
            return .array(seq.map(json))
        case .mapping(let m):
            return .object(m.map { JSONMember($0.key.string ?? "", json($0.value)) })
        case .alias:
            return .null
        }
    }
}
