import Foundation
import PostgresNIO

extension PostgresStore {
    public func addOptOut(_ optOut: OptOut) async throws -> Bool {
        try optOut.validate()
        let tenant = optOut.tenantId, kind = optOut.subject.kind, subject = optOut.subject.value
        let route = optOut.route ?? "", created = optOut.createdAt.epochMilliseconds
        return try await countQuery("add opt-out") {
            """
            WITH i AS (INSERT INTO herald_optouts (tenant_id, subject_kind, subject, route, created_at)
                VALUES (\(tenant), \(kind), \(subject), \(route), \(created)) ON CONFLICT DO NOTHING RETURNING 1)
            SELECT COUNT(*) FROM i
            """
        } > 0
    }

    public func removeOptOut(_ optOut: OptOut) async throws -> Bool {
        let tenant = optOut.tenantId, kind = optOut.subject.kind, subject = optOut.subject.value
        let route = optOut.route ?? ""
        return try await countQuery("remove opt-out") {
            """
            WITH d AS (DELETE FROM herald_optouts WHERE tenant_id = \(tenant) AND subject_kind = \(kind)
                AND subject = \(subject) AND route = \(route) RETURNING 1) SELECT COUNT(*) FROM d
            """
        } > 0
    }

    public func listOptOuts(tenantId: String?) async throws -> [OptOut] {
        let tenant = tenantId?.lowercased() ?? ""
        return try await perform("list opt-outs") { [client, logger] in
            var optOuts: [OptOut] = []
            for try await (t, kind, subject, route, created) in try await client.query(
                """
                SELECT tenant_id, subject_kind, subject, route, created_at FROM herald_optouts
                WHERE \(tenant) = '' OR tenant_id = \(tenant)
                ORDER BY tenant_id COLLATE "C", subject_kind, subject COLLATE "C", route COLLATE "C"
                """, logger: logger
            ).decode((String, String, String, String, Int64).self) {
                guard let subject = OptOut.Subject(kind: kind, value: subject) else { continue }
                optOuts.append(
                    OptOut(tenantId: t, subject: subject, route: route, createdAt: Date(epochMilliseconds: created)))
            }
            return optOuts
        }
    }

    /// One statement for the whole batch: the (tenant, kind, subject) triples are passed as three arrays.
    public func optedOut(_ recipients: [OptOutCheck], route: String) async throws -> Set<Int> {
        var tenants: [String] = [], kinds: [String] = [], subjects: [String] = []
        var indices: [String: [Int]] = [:]
        for (index, recipient) in recipients.enumerated() {
            for subject in recipient.subjects {
                tenants.append(recipient.tenantId)
                kinds.append(subject.kind)
                subjects.append(subject.value)
                indices["\(recipient.tenantId)\u{0}\(subject.kind)\u{0}\(subject.value)", default: []].append(index)
            }
        }
        guard !tenants.isEmpty else { return [] }
        let (t, k, s) = (tenants, kinds, subjects)
        let matches = try await perform("check opt-outs") { [client, logger] in
            var found: [String] = []
            for try await (tenant, kind, subject) in try await client.query(
                """
                SELECT DISTINCT o.tenant_id, o.subject_kind, o.subject FROM herald_optouts o
                JOIN unnest(\(t)::text[], \(k)::text[], \(s)::text[]) AS q(t, k, s)
                    ON o.tenant_id = q.t AND o.subject_kind = q.k AND o.subject = q.s
                WHERE o.route IN ('', \(route))
                """, logger: logger
            ).decode((String, String, String).self) {
                found.append("\(tenant)\u{0}\(kind)\u{0}\(subject)")
            }
            return found
        }
        return Set(matches.flatMap { indices[$0] ?? [] })
    }
}
