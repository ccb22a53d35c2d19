import Foundation
import ServiceLifecycle

/// Herald's shared state: conversation references, the delivery ledger, opt-outs and deferred deliveries.
///
/// Two implementations, chosen by ``makeStore(url:logger:options:)``: ``SQLiteStore`` (one worker, the demo) and
/// ``PostgresStore`` (every worker of a group). Every method takes a batch so the hot path costs one round trip
/// (PostgreSQL) or one transaction (SQLite) for many deliveries; ``DeliveryLedger`` coalesces concurrent
/// single-delivery calls into such batches. Errors are ``StoreError``.
///
/// `run()` must be running (as a `Service`, or through ``withStore(url:logger:options:_:)``) while the store is
/// used; call ``migrate()`` once at start-up.
public protocol HeraldStore: Service {
    /// Brings the schema to the latest version. Safe when several workers start at once.
    /// Returns the schema version now in force.
    @discardableResult func migrate() async throws -> Int

    // MARK: Conversation references

    /// Inserts or replaces references by key; keeps `blockedAt`/`blockCode` of an existing row unless set.
    func upsertReferences(_ references: [ConversationReference]) async throws
    func reference(key: String) async throws -> ConversationReference?
    func reference(tenantId: String, userId: String) async throws -> ConversationReference?
    func reference(tenantId: String, aadObjectId: String) async throws -> ConversationReference?
    /// Several lookups at once, one result per query in order. The default runs them concurrently; a store
    /// that can answer them in one round trip does so.
    func references(_ queries: [ReferenceQuery]) async throws -> [ConversationReference?]
    /// Deletes references; returns how many existed.
    @discardableResult func forgetReferences(keys: [String]) async throws -> Int
    /// Marks references blocked with Teams' error code; returns how many exist.
    @discardableResult func markBlocked(keys: [String], code: String, at: Date) async throws -> Int
    @discardableResult func markUnblocked(keys: [String]) async throws -> Int
    /// References ordered by key, `limit` at most, after the cursor; `blockedOnly` lists blocked recipients.
    func listReferences(
        after cursor: String?, limit: Int, blockedOnly: Bool
    ) async throws -> Page<ConversationReference>

    // MARK: Delivery ledger

    /// Atomically claims deliveries for `worker` until `now + lease`. A delivery is claimed when it has no row,
    /// is pending, is claimed by this worker, or its claim expired. Two workers never both get `.claimed` for
    /// one id while a lease holds.
    func claim(
        _ deliveryIds: [String], worker: String, lease: Duration, now: Date
    ) async throws -> [String: ClaimResult]
    /// Records that `worker` is about to make the Teams request for these claimed deliveries.
    func markSending(_ deliveryIds: [String], worker: String, now: Date) async throws
    /// Teams answered that it did not take the message (429, 412, no token): back from `sending` to `claimed` by
    /// `worker`, so a crash while waiting to retry leaves nothing uncertain.
    func markNotSending(_ deliveryIds: [String], worker: String, now: Date) async throws
    func markSent(_ deliveries: [SentDelivery], now: Date) async throws
    /// The deliveries' outcomes are on the outcomes topic; each row keeps the record it was published for.
    func markOutcomePublished(_ outcomes: [PublishedOutcome], now: Date) async throws
    /// Takes over deliveries whose claim expired while another worker was making the Teams request
    /// (``ClaimResult/uncertain(_:)``), to send them again (`delivery.onUncertain: resend`). Returns the ids
    /// now claimed by `worker` until `now + lease`.
    func claimUncertain(_ deliveryIds: [String], worker: String, lease: Duration, now: Date) async throws -> Set<String>
    /// Gives claims back (the delivery goes back to pending) if `worker` still holds them.
    func release(_ deliveryIds: [String], worker: String, now: Date) async throws
    func ledgerEntry(deliveryId: String) async throws -> LedgerEntry?
    /// The card a delivery sent, when ``SentDelivery/card`` kept it; nil otherwise (or once the row is purged).
    func sentCard(deliveryId: String) async throws -> String?
    /// The most recently sent delivery for this notification key and recipient (for update/delete).
    func latestSent(notificationKey: String, recipient: String) async throws -> LedgerEntry?
    /// Deletes ledger rows last updated before `cutoff`, `batchSize` per statement; returns how many.
    @discardableResult func purge(olderThan cutoff: Date, batchSize: Int) async throws -> Int

    // MARK: Opt-outs

    /// Adds an opt-out (adding it again changes nothing); returns whether it is new.
    @discardableResult func addOptOut(_ optOut: OptOut) async throws -> Bool
    /// Returns whether it existed.
    @discardableResult func removeOptOut(_ optOut: OptOut) async throws -> Bool
    func listOptOuts(tenantId: String?) async throws -> [OptOut]
    /// Indices in `recipients` that opted out of `route` (or of every route).
    func optedOut(_ recipients: [OptOutCheck], route: String) async throws -> Set<Int>

    // MARK: Deferred deliveries

    /// Adds or replaces deferrals by id.
    func addDeferred(_ deliveries: [DeferredDelivery]) async throws
    /// Claims up to `limit` due deferrals for `worker` until `now + lease`, oldest due first. Under contention
    /// each due deferral goes to exactly one caller; an expired claim (a killed worker) is claimable again.
    func claimDue(now: Date, limit: Int, worker: String, lease: Duration) async throws -> [DeferredDelivery]
    /// Deletes finished deferrals.
    func completeDeferred(_ ids: [String]) async throws
    /// Moves a deferral to a new due time and drops its claim.
    func rescheduleDeferred(_ id: String, dueAt: Date) async throws
    /// How many deferrals are stored (due or not).
    func deferredCount() async throws -> Int

    // MARK: Digests

    /// Adds each delivery to its group's open digest, in order, opening a new digest when there is none or the
    /// open one's window ended or it is full (which closes that one). A delivery that joined before (its record
    /// read again) keeps its place: the answer is where it already is. One answer per join, in order.
    func joinDigests(_ joins: [DigestJoin], now: Date) async throws -> [DigestJoined]
    /// Claims up to `limit` digests that are due (a batch digest whose window ended or that is full, a live one with
    /// items not yet shown) for `worker` until `now + lease`, closing those whose window ended. Under contention each
    /// due digest goes to exactly one caller; an expired claim (a killed worker) is claimable again with the same
    /// items (``DueDigest/upTo`` does not change until ``advanceDigest(_:sentCount:nextAt:now:)``).
    func claimDueDigests(now: Date, limit: Int, worker: String, lease: Duration) async throws -> [DueDigest]
    /// A live digest's message now shows its first `sentCount` items: the claim ends, and the digest is due again
    /// at `nextAt` if more are waiting, else when its window closes; a closed digest with nothing left leaves.
    func advanceDigest(_ id: String, sentCount: Int, nextAt: Date, now: Date) async throws
    /// The digest is sent and its outcomes published: it and its items leave the store.
    func completeDigest(_ id: String) async throws
    /// Moves a claimed digest's send to `dueAt` (quiet hours) and drops the claim; its window is unchanged.
    func rescheduleDigest(_ id: String, dueAt: Date) async throws
    /// How many digests are stored (open, closed, or being sent).
    func digestCount() async throws -> Int

    // MARK: Directory cache

    /// The cached answer for `name` (``DirectoryEntry/key(kind:value:)``) in the tenant, however old; the caller
    /// decides whether it is still fresh.
    func directoryEntry(tenantId: String, name: String) async throws -> DirectoryEntry?
    /// Inserts or replaces answers by tenant and name.
    func storeDirectoryEntries(_ entries: [DirectoryEntry]) async throws

    /// The store URL without its password.
    var redactedURL: String { get }
}

/// One conversation-reference lookup, as ``HeraldStore/references(_:)`` takes them.
public enum ReferenceQuery: Sendable, Hashable {
    case key(String)
    case user(tenantId: String, userId: String)
    case aadObject(tenantId: String, aadObjectId: String)
}

extension HeraldStore {
    public func references(_ queries: [ReferenceQuery]) async throws -> [ConversationReference?] {
        try await withThrowingTaskGroup(of: (Int, ConversationReference?).self) { group in
            for (index, query) in queries.enumerated() {
                group.addTask { (index, try await self.reference(query)) }
            }
            var results = [ConversationReference?](repeating: nil, count: queries.count)
            for try await (index, reference) in group { results[index] = reference }
            return results
        }
    }

    func reference(_ query: ReferenceQuery) async throws -> ConversationReference? {
        switch query {
        case .key(let key): try await reference(key: key)
        case .user(let tenantId, let userId): try await reference(tenantId: tenantId, userId: userId)
        case .aadObject(let tenantId, let aadObjectId):
            try await reference(tenantId: tenantId, aadObjectId: aadObjectId)
        }
    }

    /// Marks outcomes published without naming their records.
    public func markOutcomePublished(_ deliveryIds: [String], now: Date) async throws {
        try await markOutcomePublished(deliveryIds.map { PublishedOutcome(deliveryId: $0, input: nil) }, now: now)
    }

    func claim(_ deliveryIds: [String], worker: String, lease: Duration) async throws -> [String: ClaimResult] {
        try await claim(deliveryIds, worker: worker, lease: lease, now: Date())
    }
}

extension Duration {
    /// Whole milliseconds.
    package var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

extension Date {
    /// Milliseconds since the epoch, as both backends store times.
    var epochMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

    init(epochMilliseconds: Int64) { self.init(timeIntervalSince1970: Double(epochMilliseconds) / 1000) }

    func adding(_ duration: Duration) -> Date { Date(epochMilliseconds: epochMilliseconds + duration.milliseconds) }
}
