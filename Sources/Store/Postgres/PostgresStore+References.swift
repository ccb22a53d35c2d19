import Foundation
import PostgresNIO

extension PostgresStore {
    typealias ReferenceRow = (
        String, String, String, String, String?, String?, String?, String?, String, String?, Int64, Int64?, String?,
        String?
    )

    public func upsertReferences(_ references: [ConversationReference]) async throws {
        // The last reference wins when a batch names one key twice (one statement cannot update a row twice).
        var byKey: [String: ConversationReference] = [:]
        for reference in references {
            try reference.validate()
            byKey[reference.key] = reference
        }
        guard !byKey.isEmpty else { return }
        let rows = byKey.values.sorted { $0.key < $1.key }
        let keys = rows.map(\.key), conversations = rows.map(\.conversationId), services = rows.map(\.serviceUrl)
        let tenants = rows.map(\.tenantId), users = rows.map { $0.userId ?? "" }
        let aads = rows.map { $0.aadObjectId ?? "" }, channels = rows.map { $0.channelId ?? "" }
        let teams = rows.map { $0.teamId ?? "" }, scopes = rows.map(\.scope.rawValue),
            bots = rows.map { $0.botId ?? "" }
        let updated = rows.map(\.updatedAt.epochMilliseconds),
            blocked = rows.map { $0.blockedAt?.epochMilliseconds ?? -1 }
        let codes = rows.map { $0.blockCode ?? "" }, locales = rows.map { $0.locale ?? "" }
        try await perform("upsert references") { [client, logger] in
            _ = try await client.query(
                """
                INSERT INTO herald_references (\(unescaped: Schema.referenceColumns))
                SELECT k, c, s, t, NULLIF(u, ''), NULLIF(a, ''), NULLIF(ch, ''), NULLIF(tm, ''), sc, NULLIF(b, ''), up,
                    NULLIF(bl, -1), NULLIF(co, ''), NULLIF(lo, '')
                FROM unnest(\(keys)::text[], \(conversations)::text[], \(services)::text[], \(tenants)::text[],
                    \(users)::text[], \(aads)::text[], \(channels)::text[], \(teams)::text[], \(scopes)::text[],
                    \(bots)::text[], \(updated)::int8[], \(blocked)::int8[], \(codes)::text[], \(locales)::text[])
                    AS r(k, c, s, t, u, a, ch, tm, sc, b, up, bl, co, lo)
                ON CONFLICT (key) DO UPDATE SET conversation_id = EXCLUDED.conversation_id,
                    service_url = EXCLUDED.service_url, tenant_id = EXCLUDED.tenant_id, user_id = EXCLUDED.user_id,
                    aad_object_id = EXCLUDED.aad_object_id, channel_id = EXCLUDED.channel_id,
                    team_id = EXCLUDED.team_id, scope = EXCLUDED.scope, bot_id = EXCLUDED.bot_id,
                    updated_at = EXCLUDED.updated_at,
                    locale = COALESCE(EXCLUDED.locale, herald_references.locale),
                    blocked_at = COALESCE(EXCLUDED.blocked_at, herald_references.blocked_at),
                    block_code = COALESCE(EXCLUDED.block_code, herald_references.block_code)
                """, logger: logger)
        }
    }

    public func reference(key: String) async throws -> ConversationReference? {
        try await referenceQuery("look up reference") {
            "SELECT \(unescaped: Schema.referenceColumns) FROM herald_references WHERE key = \(key)"
        }.first
    }

    public func reference(tenantId: String, userId: String) async throws -> ConversationReference? {
        let tenant = tenantId.lowercased()
        return try await referenceQuery("look up reference by user") {
            """
            SELECT \(unescaped: Schema.referenceColumns) FROM herald_references
            WHERE tenant_id = \(tenant) AND user_id = \(userId)
            ORDER BY (scope = 'personal') DESC, updated_at DESC LIMIT 1
            """
        }.first
    }

    public func reference(tenantId: String, aadObjectId: String) async throws -> ConversationReference? {
        let tenant = tenantId.lowercased(), aad = aadObjectId.lowercased()
        return try await referenceQuery("look up reference by AAD object id") {
            """
            SELECT \(unescaped: Schema.referenceColumns) FROM herald_references
            WHERE tenant_id = \(tenant) AND aad_object_id = \(aad)
            ORDER BY (scope = 'personal') DESC, updated_at DESC LIMIT 1
            """
        }.first
    }

    public func forgetReferences(keys: [String]) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return try await countQuery("forget references") {
            "WITH d AS (DELETE FROM herald_references WHERE key = ANY(\(keys)) RETURNING 1) SELECT COUNT(*) FROM d"
        }
    }

    public func markBlocked(keys: [String], code: String, at: Date) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        let at = at.epochMilliseconds
        return try await countQuery("mark blocked") {
            """
            WITH u AS (UPDATE herald_references SET blocked_at = \(at), block_code = \(code)
                WHERE key = ANY(\(keys)) RETURNING 1) SELECT COUNT(*) FROM u
            """
        }
    }

    public func markUnblocked(keys: [String]) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return try await countQuery("mark unblocked") {
            """
            WITH u AS (UPDATE herald_references SET blocked_at = NULL, block_code = NULL
                WHERE key = ANY(\(keys)) RETURNING 1) SELECT COUNT(*) FROM u
            """
        }
    }

    public func listReferences(
        after cursor: String?, limit: Int, blockedOnly: Bool
    ) async throws -> Page<
        ConversationReference
    > {
        let limit = max(1, limit), after = cursor ?? ""
        let items = try await referenceQuery("list references") {
            """
            SELECT \(unescaped: Schema.referenceColumns) FROM herald_references
            WHERE key COLLATE "C" > \(after) AND (NOT \(blockedOnly) OR blocked_at IS NOT NULL) ORDER BY key COLLATE "C" LIMIT \(limit)
            """
        }
        return Page(items: items, nextCursor: items.count == limit ? items.last?.key : nil)
    }

    private func referenceQuery(
        _ what: String, function: String = #function, _ query: @escaping @Sendable () -> PostgresQuery
    ) async throws -> [ConversationReference] {
        try await perform(what, function: function) { [client, logger] in
            var references: [ConversationReference] = []
            for try await row in try await client.query(query(), logger: logger).decode(ReferenceRow.self) {
                references.append(ConversationReference(postgres: row))
            }
            return references
        }
    }

    /// Runs a query answering one `COUNT(*)`.
    func countQuery(
        _ what: String, function: String = #function, _ query: @escaping @Sendable () -> PostgresQuery
    ) async throws -> Int {
        try await perform(what, function: function) { [client, logger] in
            var count = 0
            for try await value in try await client.query(query(), logger: logger).decode(Int64.self) {
                count = Int(value)
            }
            return count
        }
    }
}

extension ConversationReference {
    init(postgres r: PostgresStore.ReferenceRow) {
        self.init(
            key: r.0, conversationId: r.1, serviceUrl: r.2, tenantId: r.3, userId: r.4, aadObjectId: r.5,
            channelId: r.6, teamId: r.7, scope: Scope(rawValue: r.8) ?? .personal, botId: r.9,
            updatedAt: Date(epochMilliseconds: r.10), blockedAt: r.11.map(Date.init(epochMilliseconds:)),
            blockCode: r.12, locale: r.13)
    }
}
