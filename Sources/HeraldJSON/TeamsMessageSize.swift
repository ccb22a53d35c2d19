/// A message's size as Teams counts it against its limit: "The bot message size limit is 100 KB ... encoded as
/// UTF-16. This 100 KB size limitation doesn't include base64 encoded image" (two bytes per UTF-16 code unit; string
/// values that are `data:...;base64,...` URLs are left out). An ASCII card of 60 KB is about 120 KB counted this way.
public enum TeamsMessageSize {
    /// The size of UTF-8 JSON `bytes` as Teams counts it.
    public static func of(json bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var units = 0
        var index = 0
        var inString = false
        var escaped = false
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte == UInt8(ascii: "\"") {
                if let close = endOfBase64DataURL(bytes, from: index + 1) {
                    units += 2  // its quotes
                    index = close + 1
                    continue
                }
                inString = true
            }
            units += utf16Units(leading: byte)
            index += 1
        }
        return units * 2
    }

    /// The size of UTF-8 JSON `bytes` as Teams counts it.
    public static func of(json bytes: [UInt8]) -> Int {
        bytes.withUnsafeBufferPointer { of(json: $0) }
    }

    /// The size of the JSON in `bytes[from...]` as Teams counts it.
    public static func of(json bytes: [UInt8], from start: Int) -> Int {
        bytes.withUnsafeBufferPointer { of(json: UnsafeBufferPointer(rebasing: $0[start...])) }
    }

    /// The size of `text` (a message's text, before it is written as JSON) as Teams counts it.
    public static func of(text: some StringProtocol) -> Int { text.utf16.count * 2 }

    /// The fewest bytes, as Teams counts them, that `utf8Count` bytes of UTF-8 can be (three-byte characters are
    /// one UTF-16 unit): a cheap bound while a message is still being written.
    public static func lowerBound(utf8Count: Int) -> Int { utf8Count * 2 / 3 }

    /// UTF-16 code units the UTF-8 sequence that `byte` begins adds: continuation bytes add none, a four-byte
    /// sequence is a surrogate pair.
    @inline(__always)
    private static func utf16Units(leading byte: UInt8) -> Int {
        if byte < 0x80 { return 1 }
        if byte < 0xC0 { return 0 }
        return byte >= 0xF0 ? 2 : 1
    }

    private static let dataScheme: [UInt8] = Array("data:".utf8)
    private static let base64Marker: [UInt8] = Array(";base64".utf8)

    /// Where the closing quote of a string value that starts at `start` with `data:` and holds base64 (`;base64,`
    /// before its first comma) is; nil for any other string. A value with escapes is counted as written.
    private static func endOfBase64DataURL(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        let scheme = Self.dataScheme
        guard bytes.count - start > scheme.count else { return nil }
        for offset in 0..<scheme.count where bytes[start + offset] != scheme[offset] { return nil }
        let marker = Self.base64Marker
        var index = start + scheme.count
        var comma: Int?
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
            if byte == UInt8(ascii: ","), comma == nil { comma = index }
            index += 1
        }
        guard index < bytes.count, let comma, comma - start >= scheme.count + marker.count else { return nil }
        for offset in 0..<marker.count where bytes[comma - marker.count + offset] != marker[offset] { return nil }
        return index
    }
}
