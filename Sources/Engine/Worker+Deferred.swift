import Foundation
import Kafka
import Routing
import Store

extension Worker {
    /// Claims due deferred deliveries and puts them in their recipients' lanes. Deferred deliveries have no
    /// offset: a claim expires if this worker dies, and another worker takes them.
    func deferredLoop() async {
        while !Task.isCancelled, !state.withLock({ $0.draining }) {
            try? await options.clock.sleep(for: options.deferredPollInterval)
            // Woken by the drain: claim nothing that this worker would no longer send (it would wait a lease).
            guard !Task.isCancelled, !state.withLock({ $0.draining }) else { return }
            guard lanes.admitted < options.maxInFlight else { continue }
            let due: [DeferredDelivery]
            do {
                due = try await ledger.claimDue(limit: min(500, options.maxInFlight - lanes.admitted))
            } catch {
                logger.warning("cannot read due deferred deliveries", metadata: ["error": "\(error)"])
                continue
            }
            for deferral in due {
                do {
                    let item = try DeferredPayload.decode(deferral.payload).workItem(deferralId: deferral.id)
                    state.withLock { $0.incoming.append(item) }
                } catch {
                    await deadLetter(deferral, error: error)
                }
            }
        }
    }

}

extension QuietHours {
    /// When the quiet hours around `now` end, in the recipient's time zone; nil when `now` is outside them.
    func end(after now: Date) -> Date? {
        guard from != to else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: timeZone) ?? TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.hour, .minute], from: now)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        let inside = from < to ? (minute >= from && minute < to) : (minute >= from || minute < to)
        guard inside else { return nil }
        let startOfDay = calendar.startOfDay(for: now)
        guard var end = calendar.date(byAdding: .minute, value: to, to: startOfDay) else { return nil }
        if end <= now, let next = calendar.date(byAdding: .day, value: 1, to: end) { end = next }
        return end
    }
}
