/// The versioned schema, one list of statements per version and backend. Versions only ever get appended:
/// a released version's statements never change. Times are milliseconds since the epoch in both backends.
enum Schema {
    /// Version 1: references, ledger, opt-outs, deferred deliveries.
    static func version1(blob: String, integer: String) -> [String] {
        [
            """
            CREATE TABLE herald_references (
                key TEXT PRIMARY KEY,
                conversation_id TEXT NOT NULL,
                service_url TEXT NOT NULL,
                tenant_id TEXT NOT NULL,
                user_id TEXT,
                aad_object_id TEXT,
                channel_id TEXT,
                team_id TEXT,
                scope TEXT NOT NULL,
                bot_id TEXT,
                updated_at BIGINT NOT NULL,
                blocked_at BIGINT,
                block_code TEXT
            )
            """,
            "CREATE INDEX herald_references_user ON herald_references (tenant_id, user_id)",
            "CREATE INDEX herald_references_aad ON herald_references (tenant_id, aad_object_id)",
            "CREATE INDEX herald_references_blocked ON herald_references (blocked_at) WHERE blocked_at IS NOT NULL",
            """
            CREATE TABLE herald_ledger (
                delivery_id TEXT PRIMARY KEY,
                state TEXT NOT NULL,
                claimed_by TEXT,
                claim_expires_at BIGINT,
                activity_id TEXT,
                conversation_id TEXT,
                service_url TEXT,
                attempts \(integer) NOT NULL DEFAULT 0,
                notification_key TEXT,
                recipient TEXT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                sent_at BIGINT
            )
            """,
            """
            CREATE INDEX herald_ledger_notification ON herald_ledger (notification_key, recipient, sent_at)
                WHERE notification_key IS NOT NULL
            """,
            "CREATE INDEX herald_ledger_updated ON herald_ledger (updated_at)",
            """
            CREATE TABLE herald_optouts (
                tenant_id TEXT NOT NULL,
                subject_kind TEXT NOT NULL,
                subject TEXT NOT NULL,
                route TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (tenant_id, subject_kind, subject, route)
            )
            """,
            """
            CREATE TABLE herald_deferred (
                id TEXT PRIMARY KEY,
                payload \(blob) NOT NULL,
                due_at BIGINT NOT NULL,
                attempts \(integer) NOT NULL DEFAULT 0,
                claimed_by TEXT,
                claim_expires_at BIGINT,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX herald_deferred_due ON herald_deferred (due_at)",
        ]
    }

    /// Version 2: the record whose outcome a ledger row published (`topic/partition/offset`), so a record read
    /// again is told apart from a different record carrying the same event (an upstream duplicate).
    static let version2 = ["ALTER TABLE herald_ledger ADD COLUMN input TEXT"]

    /// Version 3: the card a delivery sent, kept for cards with buttons whose answer shows the card again
    /// (Acknowledge, the opt-out's Undo); purged with its ledger row.
    static let version3 = ["ALTER TABLE herald_ledger ADD COLUMN card TEXT"]

    /// Version 4: the directory cache, what Microsoft Graph answered for a person named by email or UPN
    /// (`object_id` NULL: nobody has the name).
    static let version4 = [
        """
        CREATE TABLE herald_directory (
            tenant_id TEXT NOT NULL,
            name TEXT NOT NULL,
            object_id TEXT,
            account_enabled INTEGER NOT NULL,
            resolved_at BIGINT NOT NULL,
            PRIMARY KEY (tenant_id, name)
        )
        """
    ]

    /// Version 5: the recipient's Teams client locale on its reference, for the route's `message.locales`.
    static let version5 = ["ALTER TABLE herald_references ADD COLUMN locale TEXT"]

    /// Version 6: digests, and the deliveries waiting in them. At most one open digest per group (route,
    /// recipient, key); a digest closes when its window ends or it is full, and then takes no more items.
    static func version6(blob: String) -> [String] {
        [
            """
            CREATE TABLE herald_digests (
                id TEXT PRIMARY KEY,
                group_key TEXT NOT NULL,
                state TEXT NOT NULL,
                live INTEGER NOT NULL,
                payload \(blob) NOT NULL,
                opened_at BIGINT NOT NULL,
                closes_at BIGINT NOT NULL,
                due_at BIGINT NOT NULL,
                next_at BIGINT NOT NULL,
                item_count INTEGER NOT NULL,
                max_items INTEGER NOT NULL,
                sent_count INTEGER NOT NULL,
                batch_upto INTEGER,
                claimed_by TEXT,
                claim_expires_at BIGINT
            )
            """,
            "CREATE UNIQUE INDEX herald_digests_open ON herald_digests (group_key) WHERE state = 'open'",
            "CREATE INDEX herald_digests_due ON herald_digests (due_at)",
            """
            CREATE TABLE herald_digest_items (
                delivery_id TEXT PRIMARY KEY,
                digest_id TEXT NOT NULL,
                position INTEGER NOT NULL,
                payload \(blob) NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX herald_digest_items_digest ON herald_digest_items (digest_id, position)",
        ]
    }

    static let sqlite: [[String]] = [
        version1(blob: "BLOB", integer: "INTEGER"), version2, version3, version4, version5, version6(blob: "BLOB"),
    ]
    static let postgres: [[String]] = [
        version1(blob: "BYTEA", integer: "INTEGER"), version2, version3, version4, version5, version6(blob: "BYTEA"),
    ]

    /// The newest version this build knows.
    static var latestVersion: Int { sqlite.count }

    /// Columns read into a ``LedgerEntry`` by ``ledgerEntry(_:)`` of each backend, in order.
    static let ledgerColumns =
        "delivery_id, state, claimed_by, claim_expires_at, activity_id, conversation_id, service_url, attempts, "
        + "notification_key, recipient, created_at, updated_at, sent_at, input"

    /// Columns read into a ``ConversationReference``, in order.
    static let referenceColumns =
        "key, conversation_id, service_url, tenant_id, user_id, aad_object_id, channel_id, team_id, scope, bot_id, "
        + "updated_at, blocked_at, block_code, locale"
}
