import Foundation
import HeraldJSON

/// Differential: Herald's parser accepts exactly the texts RFC 8259 calls JSON (as an independent strict validator,
/// ``StrictJSON``, decides: Foundation is lenient, it accepts trailing commas for one), refuses nesting deeper than
/// its limit (64, so a hostile record cannot exhaust the stack), and reads what Foundation's `JSONSerialization`
/// reads. Where RFC 8259 leaves a choice Herald has made one: duplicate keys (it keeps every member in order and reads
/// the first; Foundation keeps the last, which is what is compared), numbers beyond a Double's range (refused) and
/// lone surrogate escapes (refused: a Swift string cannot hold one).
enum JSONCheck {
    static func check(_ bytes: [UInt8]) throws(PropertyViolation) {
        let ours: JSONValue?
        var refusal: JSONParseError?
        do throws(JSONParseError) {
            ours = try JSONParser.parse(bytes)
        } catch {
            ours = nil
            refusal = error
        }
        let (valid, depth) = StrictJSON.validate(bytes)
        let limit = JSONParser.defaultMaxDepth
        // RFC 8259 lets a reader limit numbers' range: Herald refuses one beyond a Double's, rather than read infinity.
        let outOfRange = refusal?.message == "number out of range"
        if valid, depth < limit, ours == nil, !outOfRange {
            throw PropertyViolation(.json, "Herald refuses JSON: \(excerpt(bytes))")
        }
        if let ours, !valid {
            throw PropertyViolation(.json, "Herald accepts what is not JSON: \(excerpt(bytes)) -> \(ours)")
        }
        if ours != nil, depth > limit + 1 {
            throw PropertyViolation(.json, "Herald accepts nesting \(depth) deep, over its limit of \(limit)")
        }
        guard let value = ours else { return }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else {
            throw PropertyViolation(.json, "Foundation refuses what Herald accepts: \(excerpt(bytes))")
        }
        if let difference = compare(value, object, path: "$") {
            throw PropertyViolation(.json, "values differ at \(difference) for \(excerpt(bytes))")
        }
        // What Herald writes, Herald reads back as the same value.
        let written = JSONWriter.encode(value)
        guard let again = try? JSONParser.parse(written), equivalent(again, value) else {
            throw PropertyViolation(.json, "re-encoding is not read back the same: \(excerpt(written))")
        }
    }

    /// Where `ours` and Foundation's `theirs` differ (a path), or nil when they agree.
    static func compare(_ ours: JSONValue, _ theirs: Any, path: String) -> String? {
        switch ours {
        case .null:
            return theirs is NSNull ? nil : path
        case .bool(let flag):
            guard let number = theirs as? NSNumber, isBoolean(number) else { return path }
            return number.boolValue == flag ? nil : path
        case .number(let value):
            guard let number = theirs as? NSNumber, !isBoolean(number) else { return path }
            return sameNumber(value, number.doubleValue) ? nil : "\(path) (\(value) vs \(number))"
        case .string(let text):
            return (theirs as? String) == text ? nil : path
        case .array(let elements):
            guard let array = theirs as? [Any], array.count == elements.count else { return path }
            for (index, element) in elements.enumerated() {
                if let difference = compare(element, array[index], path: "\(path)[\(index)]") { return difference }
            }
            return nil
        case .object(let members):
            guard let dictionary = theirs as? [String: Any] else { return path }
            var last: [String: JSONValue] = [:]
            for member in members { last[member.key] = member.value }
            guard Set(last.keys) == Set(dictionary.keys) else { return "\(path) (keys)" }
            for (key, value) in last {
                if let difference = compare(value, dictionary[key]!, path: "\(path).\(key)") { return difference }
            }
            return nil
        }
    }

    static func isBoolean(_ number: NSNumber) -> Bool {
        #if canImport(Darwin)
            return CFGetTypeID(number) == CFBooleanGetTypeID()
        #else
            return type(of: number) == type(of: NSNumber(value: true)) && String(cString: number.objCType) == "c"
        #endif
    }

    static func sameNumber(_ a: Double, _ b: Double) -> Bool {
        if a == b { return true }
        if a.isInfinite || b.isInfinite { return a.isInfinite && b.isInfinite && a.sign == b.sign }
        let scale = max(abs(a), abs(b))
        // Foundation reads long literals as Decimal, whose conversion to Double is not exact (found by fuzzing:
        // 1222222222222e118 differs in its last digits); Herald's is `Double(text)`, exact by construction.
        return abs(a - b) <= scale * 1e-12 || (scale < 1e-300 && abs(a - b) < 1e-300)
    }

    /// Equal, with numbers compared as `sameNumber` does.
    static func equivalent(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): return sameNumber(x, y)
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { equivalent($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && equivalent($0.value, $1.value) }
        default: return a == b
        }
    }
}
