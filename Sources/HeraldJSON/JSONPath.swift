/// A compiled path into a JSON value: `data.assignee.aadObjectId`, `data.items[0].title`.
///
/// Segments are resolved once at start-up, so walking a path at run time allocates nothing.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    /// One step of a path.
    public enum Segment: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    public var segments: [Segment]

    public init(segments: [Segment]) { self.segments = segments }

    /// Parses `a.b[2].c`; keys are identifiers (letters, digits, `_`, `-`, `$`, `@`) or quoted `['a key']`.
    public init?(parsing text: String) {
        var segments: [Segment] = []
        var bytes = Array(text.utf8)[...]
        var expectKey = true
        while let first = bytes.first {
            if first == UInt8(ascii: "[") {
                bytes = bytes.dropFirst()
                if let q = bytes.first, q == UInt8(ascii: "'") || q == UInt8(ascii: "\"") {
                    guard let end = bytes.dropFirst().firstIndex(of: q) else { return nil }
                    segments.append(.key(String(decoding: bytes[(bytes.startIndex + 1)..<end], as: UTF8.self)))
                    bytes = bytes[(end + 1)...]
                } else {
                    let digits = bytes.prefix { $0 >= 48 && $0 <= 57 }
                    guard !digits.isEmpty, digits.count < 10, let n = Int(String(decoding: digits, as: UTF8.self))
                    else { return nil }
                    segments.append(.index(n))
                    bytes = bytes.dropFirst(digits.count)
                }
                guard bytes.first == UInt8(ascii: "]") else { return nil }
                bytes = bytes.dropFirst()
                expectKey = false
            } else if first == UInt8(ascii: ".") {
                guard !expectKey else { return nil }
                bytes = bytes.dropFirst()
                expectKey = true
            } else {
                guard expectKey else { return nil }
                let ident = bytes.prefix { JSONPath.isIdentifierByte($0) }
                guard !ident.isEmpty else { return nil }
                segments.append(.key(String(decoding: ident, as: UTF8.self)))
                bytes = bytes.dropFirst(ident.count)
                expectKey = false
            }
        }
        guard !segments.isEmpty, !expectKey else { return nil }
        self.segments = segments
    }

    package static func isIdentifierByte(_ b: UInt8) -> Bool {
        (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || (b >= 48 && b <= 57) || b == 95 || b == 45 || b == 36
            || b == 64 || b >= 0x80
    }

    /// The value at this path below `root`, or nil when any step is missing.
    @inlinable
    public func resolve(in root: JSONValue, from start: Int = 0) -> JSONValue? {
        var current = root
        var i = start
        while i < segments.count {
            switch segments[i] {
            case .key(let k):
                guard let next = current[k] else { return nil }
                current = next
            case .index(let n):
                guard let next = current[n] else { return nil }
                current = next
            }
            i += 1
        }
        return current
    }

    public var description: String {
        var out = ""
        for segment in segments {
            switch segment {
            case .key(let k): out += out.isEmpty ? k : "." + k
            case .index(let n): out += "[\(n)]"
            }
        }
        return out
    }
}
