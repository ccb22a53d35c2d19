/// `quietHours: { from: "20:00", to: "08:00", timeZone: "${data.assignee.timeZone}" }`
public struct QuietHoursTemplate: Sendable {
    /// Minutes after midnight.
    public var from: Int
    public var to: Int
    public var timeZone: TextTemplate
}

/// Quiet hours with the time zone resolved: deliveries starting inside [from, to) local time wait for `to`.
public struct QuietHours: Sendable, Hashable, Codable {
    /// Minutes after midnight, local time; `from > to` spans midnight.
    public var from: Int
    public var to: Int
    /// An IANA time zone id; `UTC` when the template rendered empty or unknown.
    public var timeZone: String

    public init(from: Int, to: Int, timeZone: String) {
        self.from = from
        self.to = to
        self.timeZone = timeZone
    }
}
