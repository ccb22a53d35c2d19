import Foundation

extension SQLiteStore {
    public func upsertReferences(_ references: [ConversationReference]) async throws {
        guard !references.isEmpty else { return }
        try references.forEach { try $0.validate() }
        try await write { db in
            for r in references {
                try db.execute(
                    """
                    INSERT INTO herald_references (\(Schema.referenceColumns))
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (key) DO UPDATE SET conversation_id = excluded.conversation_id,
                        service_url = excluded.service_url, tenant_id = excluded.tenant_id, user_id = excluded.user_id,
                        aad_object_id = excluded.aad_object_id, channel_id = excluded.channel_id,
                        team_id = excluded.team_id, scope = excluded.scope, bot_id = excluded.bot_id,
                        updated_at = excluded.updated_at,
                        locale = COALESCE(excluded.locale, herald_references.locale),
                        blocked_at = COALESCE(excluded.blocked_at, herald_references.blocked_at),
                        block_code = COALESCE(excluded.block_code, herald_references.block_code)
                    """, r.sqliteValues)
            }
        }
    }

    public func reference(key: String) async throws -> ConversationReference? {
        try await read { db in try Self.lookUp(.key(key), in: db) }
    }

    public func reference(tenantId: String, userId: String) async throws -> ConversationReference? {
        try await read { db in try Self.lookUp(.user(tenantId: tenantId, userId: userId), in: db) }
    }

    public func reference(tenantId: String, aadObjectId: String) async throws -> ConversationReference? {
        try await read { db in try Self.lookUp(.aadObject(tenantId: tenantId, aadObjectId: aadObjectId), in: db) }
    }

    /// Every lookup in one visit to the connection's queue.
    public func references(_ queries: [ReferenceQuery]) async throws -> [ConversationReference?] {
        guard !queries.isEmpty else { return [] }
        return try await read { db in try queries.map { try Self.lookUp($0, in: db) } }
    }

    private static func lookUp(_ query: ReferenceQuery, in db: SQLiteConnection) throws -> ConversationReference? {
        // A user's personal conversation wins over a channel or group chat they are in; then the newest.
        let rows: [[SQLiteValue]]
        switch query {
        case .key(let key):
            rows = try db.query("SELECT \(Schema.referenceColumns) FROM herald_references WHERE key = ?", [.text(key)])
        case .user(let tenantId, let userId):
            rows = try db.query(
                """
                SELECT \(Schema.referenceColumns) FROM herald_references WHERE tenant_id = ? AND user_id = ?
                ORDER BY (scope = 'personal') DESC, updated_at DESC LIMIT 1
                """, [.text(tenantId.lowercased()), .text(userId)])
        case .aadObject(let tenantId, let aadObjectId):
            rows = try db.query(
                """
                SELECT \(Schema.referenceColumns) FROM herald_references WHERE tenant_id = ? AND aad_object_id = ?
                ORDER BY (scope = 'personal') DESC, updated_at DESC LIMIT 1
                """, [.text(tenantId.lowercased()), .text(aadObjectId.lowercased())])
        }
        return rows.first.map(ConversationReference.init(sqlite:))
    }

    public func forgetReferences(keys: [String]) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return try await write { db in
            try keys.reduce(0) { $0 + (try db.execute("DELETE FROM herald_references WHERE key = ?", [.text($1)])) }
        }
    }

    public func markBlocked(keys: [String], code: String, at: Date) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return try await write { db in
            try keys.reduce(0) {
                $0
                    + (try db.execute(
                        "UPDATE herald_references SET blocked_at = ?, block_code = ? WHERE key = ?",
                        [.integer(at.epochMilliseconds), .text(code), .text($1)]))
            }
        }
    }

    public func markUnblocked(keys: [String]) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return try await write { db in
            try keys.reduce(0) {
                $0
                    + (try db.execute(
                        "UPDATE herald_references SET blocked_at = NULL, block_code = NULL WHERE key = ?", [.text($1)]))
            }
        }
    }

    public func listReferences(
        after cursor: String?, limit: Int, blockedOnly: Bool
    ) async throws -> Page<
        ConversationReference
    > {
        let limit = max(1, limit)
        let rows = try await read { db in
            try db.query(
                """
                SELECT \(Schema.referenceColumns) FROM herald_references
                WHERE key > ? AND (? = 0 OR blocked_at IS NOT NULL) ORDER BY key LIMIT ?
                """, [.text(cursor ?? ""), .integer(blockedOnly ? 1 : 0), .integer(Int64(limit))])
        }
        let items = rows.map(ConversationReference.init(sqlite:))
        return Page(items: items, nextCursor: items.count == limit ? items.last?.key : nil)
    }
}

extension ConversationReference {
    var sqliteValues: [SQLiteValue] {
        [
            .text(key), .text(conversationId), .text(serviceUrl), .text(tenantId), SQLiteValue(userId),
            SQLiteValue(aadObjectId), SQLiteValue(channelId), SQLiteValue(teamId), .text(scope.rawValue),
            SQLiteValue(botId), .integer(updatedAt.epochMilliseconds), SQLiteValue(blockedAt?.epochMilliseconds),
            SQLiteValue(blockCode), SQLiteValue(locale),
        ]
    }

    init(sqlite row: [SQLiteValue]) {
        self.init(
            key: row[0].text ?? "", conversationId: row[1].text ?? "", serviceUrl: row[2].text ?? "",
            tenantId: row[3].text ?? "", userId: row[4].text, aadObjectId: row[5].text, channelId: row[6].text,
            teamId: row[7].text, scope: Scope(rawValue: row[8].text ?? "") ?? .personal, botId: row[9].text,
            updatedAt: Date(epochMilliseconds: row[10].integer ?? 0),
            blockedAt: row[11].integer.map(Date.init(epochMilliseconds:)), blockCode: row[12].text,
            locale: row[13].text)
    }

    /// Longest key or id accepted.
    static let maxFieldLength = 2048

    /// Refuses empty keys and oversized fields before they reach the database.
    func validate() throws(StoreError) {
        guard !key.isEmpty else { throw StoreError(.invalidInput, "a conversation reference needs a key") }
        guard !conversationId.isEmpty else {
            throw StoreError(.invalidInput, "reference \(key.prefix(80)): conversation id is empty")
        }
        for field in [
            key, conversationId, serviceUrl, tenantId, userId, aadObjectId, channelId, teamId, botId, blockCode,
            locale,
        ]
        where (field?.utf8.count ?? 0) > Self.maxFieldLength {
            throw StoreError(
                .invalidInput, "reference \(key.prefix(80)): a field is longer than \(Self.maxFieldLength) bytes")
        }
    }
}
