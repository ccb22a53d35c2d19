/// Parses an HTTP `Retry-After` value: delay seconds (`120`) or an HTTP-date
/// (`Sun, 06 Nov 1994 08:49:37 GMT`, the IMF-fixdate form RFC 9110 requires of senders).
public enum RetryAfter {
    /// Longer asks are read as this: an hour, far beyond any wait Teams or Graph asks for, so a broken or hostile
    /// header (`Retry-After: 1e300`) can neither overflow nor hold a tenant for ever.
    public static let longest = Duration.seconds(3600)

    /// The delay the value asks for, measured from `now` (seconds since 1970) for the date form;
    /// nil when the value is neither form. A date in the past means no wait (zero).
    public static func parse(_ value: some StringProtocol, now: Double) -> Duration? {
        let trimmed = value.trimmingSpaces
        let seconds: Double
        if let whole = Int64(trimmed), whole >= 0 {
            seconds = Double(whole)
        } else if let fraction = Double(trimmed), fraction >= 0, fraction.isFinite {
            seconds = fraction
        } else if let epoch = httpDateEpochSeconds(trimmed) {
            seconds = max(0, Double(epoch) - now)
        } else {
            return nil
        }
        return seconds >= 3600 ? longest : .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }

    /// Seconds since 1970 for an IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func httpDateEpochSeconds(_ text: Substring) -> Int64? {
        let fields = text.split(separator: " ")
        guard fields.count == 6, fields[0].hasSuffix(","), fields[5] == "GMT",
            let day = Int64(fields[1]), (1...31).contains(day),
            let monthIndex = months.firstIndex(of: String(fields[2])),
            let year = Int64(fields[3]), (1970...9999).contains(year)
        else { return nil }
        let clock = fields[4].split(separator: ":")
        guard clock.count == 3, let hour = Int64(clock[0]), let minute = Int64(clock[1]),
            let second = Int64(clock[2]), (0..<24).contains(hour), (0..<60).contains(minute), (0...60).contains(second)
        else { return nil }
        let days = daysFromCivil(year: year, month: Int64(monthIndex + 1), day: day)
        return days * 86_400 + hour * 3_600 + minute * 60 + second
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

extension StringProtocol {
    var trimmingSpaces: Substring {
        let s = self[...]
        guard let first = s.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return Substring() }
        let last = s.lastIndex(where: { $0 != " " && $0 != "\t" })!
        return Substring(s[first...last])
    }
}
