/// What happens to a delivery whose Teams request a crash cut short (`delivery.onUncertain`, and per route):
/// Teams has no idempotency key, so nobody can tell whether the message arrived.
public enum UncertainDeliveryPolicy: String, Sendable, Hashable, CaseIterable {
    /// Outcome `failed`, code `DeliveryUncertain`: never a message twice, possibly none.
    case fail
    /// Send it again: at least once, possibly twice (an on-call page would rather arrive twice than not).
    case resend
}
