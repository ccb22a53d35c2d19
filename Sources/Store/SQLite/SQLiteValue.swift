/// A value bound to or read from an SQLite statement.
enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])

    init(_ text: String?) { self = text.map { .text($0) } ?? .null }
    init(_ integer: Int64?) { self = integer.map { .integer($0) } ?? .null }

    var text: String? {
        if case .text(let s) = self { return s }
        return nil
    }

    var integer: Int64? {
        if case .integer(let i) = self { return i }
        return nil
    }

    var blob: [UInt8]? {
        switch self {
        case .blob(let b): b
        case .text(let s): Array(s.utf8)
        default: nil
        }
    }
}
