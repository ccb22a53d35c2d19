/// Durations as operators write them: `500ms`, `30s`, `5m`, `24h`, `1h30m`, `2d`; a bare number is seconds.
public enum DurationParser {
    /// Longest duration accepted: 100 years (anything longer is a typo, and would overflow).
    public static let maxMilliseconds: Double = 100 * 365 * 86_400_000

    public static func parse(_ text: String) -> Duration? {
        let s = text.trimmingCharacters(in: " ")
        guard !s.isEmpty, s.count <= 64 else { return nil }
        if s.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) {
            guard let seconds = Double(s), seconds * 1000 <= maxMilliseconds else { return nil }
            return .milliseconds(Int64(seconds * 1000))
        }
        var total: Int64 = 0
        var number = ""
        var unit = ""
        func flush() -> Bool {
            guard let n = Double(number), n >= 0 else { return false }
            let factor: Double
            switch unit {
            case "ms": factor = 1
            case "s": factor = 1000
            case "m": factor = 60_000
            case "h": factor = 3_600_000
            case "d": factor = 86_400_000
            default: return false
            }
            guard n * factor + Double(total) <= maxMilliseconds else { return false }
            total += Int64(n * factor)
            number = ""
            unit = ""
            return true
        }
        for c in s {
            if c.isNumber || c == "." {
                if !unit.isEmpty { guard flush() else { return nil } }
                number.append(c)
            } else if c.isLetter {
                guard !number.isEmpty else { return nil }
                unit.append(c)
            } else {
                return nil
            }
        }
        guard flush() else { return nil }
        return .milliseconds(total)
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
