import Foundation

extension SQLiteStore {
    public func addOptOut(_ optOut: OptOut) async throws -> Bool {
        try optOut.validate()
        return try await write { db in
            try db.execute(
                """
                INSERT INTO herald_optouts (tenant_id, subject_kind, subject, route, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """,
                [
                    .text(optOut.tenantId), .text(optOut.subject.kind), .text(optOut.subject.value),
                    .text(optOut.route ?? ""), .integer(optOut.createdAt.epochMilliseconds),
                ]) > 0
        }
    }

    public func removeOptOut(_ optOut: OptOut) async throws -> Bool {
        try await write { db in
            try db.execute(
                "DELETE FROM herald_optouts WHERE tenant_id = ? AND subject_kind = ? AND subject = ? AND route = ?",
                [
                    .text(optOut.tenantId), .text(optOut.subject.kind), .text(optOut.subject.value),
                    .text(optOut.route ?? ""),
                ]
            ) > 0
        }
    }

    public func listOptOuts(tenantId: String?) async throws -> [OptOut] {
        try await read { db in
            try db.query(
                """
                SELECT tenant_id, subject_kind, subject, route, created_at FROM herald_optouts
                WHERE ? IS NULL OR tenant_id = ? ORDER BY tenant_id, subject_kind, subject, route
                """, [SQLiteValue(tenantId?.lowercased()), SQLiteValue(tenantId?.lowercased())]
            ).compactMap(OptOut.init(row:))
        }
    }

    public func optedOut(_ recipients: [OptOutCheck], route: String) async throws -> Set<Int> {
        guard !recipients.isEmpty else { return [] }
        return try await read { db in
            var hits: Set<Int> = []
            for (index, recipient) in recipients.enumerated() {
                for subject in recipient.subjects {
                    let found = try db.query(
                        """
                        SELECT 1 FROM herald_optouts WHERE tenant_id = ? AND subject_kind = ? AND subject = ?
                            AND route IN ('', ?) LIMIT 1
                        """, [.text(recipient.tenantId), .text(subject.kind), .text(subject.value), .text(route)])
                    if !found.isEmpty { hits.insert(index) }
                }
            }
            return hits
        }
    }
}

extension OptOut {
    init?(row: [SQLiteValue]) {
        guard let kind = row[1].text, let value = row[2].text, let subject = Subject(kind: kind, value: value) else {
            return nil
        }
        self.init(
            tenantId: row[0].text ?? "", subject: subject, route: row[3].text,
            createdAt: Date(epochMilliseconds: row[4].integer ?? 0))
    }

    func validate() throws(StoreError) {
        guard !tenantId.isEmpty, !subject.value.isEmpty else {
            throw StoreError(.invalidInput, "an opt-out needs a tenant and a user id or AAD object id")
        }
        guard tenantId.utf8.count <= 256, subject.value.utf8.count <= 1024, (route?.utf8.count ?? 0) <= 1024 else {
            throw StoreError(.invalidInput, "an opt-out field is too long")
        }
    }
}
