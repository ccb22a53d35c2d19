import BotConnector

/// Graph's answers that a tenant never granted a permission, each believed until a recheck time (an admin may grant
/// it meanwhile), and which were reported already (a refusal is logged once per key, not once per delivery).
struct ConsentRefusals: Sendable {
    private var refusals: [String: (until: ContinuousClock.Instant, error: BotConnectorError)] = [:]
    private var reported: Set<String> = []

    /// The refusal for `key` while it stands; a refusal past its time is forgotten.
    mutating func standing(_ key: String, now: ContinuousClock.Instant) -> BotConnectorError? {
        guard let refusal = refusals[key] else { return nil }
        if now < refusal.until { return refusal.error }
        refusals[key] = nil
        return nil
    }

    /// Believes `error` for `key` until `until`; true the first time `key` is refused (log it then).
    mutating func refused(_ key: String, _ error: BotConnectorError, until: ContinuousClock.Instant) -> Bool {
        refusals[key] = (until, error)
        return reported.insert(key).inserted
    }
}
