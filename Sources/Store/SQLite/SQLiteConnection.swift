import CSQLite
import Dispatch
import Foundation

/// One SQLite connection, owned by this object and closed in `deinit`. Every call runs on the connection's
/// own serial queue ‒ never on Swift's cooperative pool, since SQLite blocks on disk and on other processes'
/// locks ‒ and resumes the caller's continuation when done.
final class SQLiteConnection: @unchecked Sendable {
    // @unchecked: `handle` and `statements` are touched only on `queue` (checked by dispatchPrecondition).
    private let queue: DispatchQueue
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    let path: String

    private init(path: String, queue: DispatchQueue) {
        self.path = path
        self.queue = queue
    }

    /// Opens (creating if needed) the file, in WAL mode with the given `synchronous` and busy timeout.
    static func open(
        path: String, synchronous: StoreURL.SQLiteSynchronous, busyTimeout: Duration
    ) async throws -> SQLiteConnection {
        let connection = SQLiteConnection(path: path, queue: DispatchQueue(label: "herald.store.sqlite"))
        try await connection.run { db in
            try db.openOnQueue(synchronous: synchronous, busyTimeout: busyTimeout)
        }
        return connection
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        if let handle { sqlite3_close_v2(handle) }
    }

    /// Runs `body` on the connection's queue.
    func run<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body(self) })
            }
        }
    }

    /// Closes the connection now (later calls fail with ``StoreError/Code/closed``).
    func close() async {
        _ = try? await run { db in db.closeOnQueue() }
    }

    private func closeOnQueue() {
        for statement in statements.values { sqlite3_finalize(statement) }
        statements.removeAll()
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    private func openOnQueue(synchronous: StoreURL.SQLiteSynchronous, busyTimeout: Duration) throws {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw SQLiteConnection.error(rc, "cannot open \(path): \(message)")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, Int32(clamping: busyTimeout.milliseconds))
        let mode = try switchToWAL(within: busyTimeout)
        guard mode?.lowercased() == "wal" else {
            throw StoreError(.unavailable, "cannot switch \(path) to WAL mode (journal_mode is \(mode ?? "unknown"))")
        }
        try execute("PRAGMA synchronous=\(synchronous.rawValue.uppercased())")
        try execute("PRAGMA foreign_keys=ON")
    }

    /// `PRAGMA journal_mode=WAL`, tried again while another connection holds the lock it needs: SQLite answers
    /// a journal mode change that meets a lock with SQLITE_BUSY at once, without its busy handler, so two
    /// stores opening one new file together (`herald run` with its gateway, a CLI command beside a worker) would
    /// otherwise fail the slower one.
    private func switchToWAL(within limit: Duration) throws -> String? {
        let deadline = ContinuousClock.now + limit
        while true {
            do {
                return try query("PRAGMA journal_mode=WAL").first?.first?.text
            } catch let error as StoreError where error.isRetryable && ContinuousClock.now < deadline {
                usleep(10_000)  // on this connection's own queue, not a shared thread
            }
        }
    }

    // MARK: Statements (call on the queue only, from inside `run`)

    /// Runs `sql` with `binds` and returns every row.
    func query(_ sql: String, _ binds: [SQLiteValue] = []) throws -> [[SQLiteValue]] {
        let statement = try prepared(sql, binds)
        defer { sqlite3_reset(statement) }
        var rows: [[SQLiteValue]] = []
        while try step(statement, sql) {
            rows.append(readRow(statement))
        }
        return rows
    }

    /// Runs `sql` with `binds`; returns the number of rows changed.
    @discardableResult
    func execute(_ sql: String, _ binds: [SQLiteValue] = []) throws -> Int {
        let statement = try prepared(sql, binds)
        defer { sqlite3_reset(statement) }
        while try step(statement, sql) {}
        return Int(sqlite3_changes(handle))
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up front, so concurrent writers
    /// (other processes) wait in the busy handler instead of failing halfway.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            _ = try? execute("ROLLBACK")
            throw error
        }
    }

    private func prepared(_ sql: String, _ binds: [SQLiteValue]) throws -> OpaquePointer {
        dispatchPrecondition(condition: .onQueue(queue))
        guard let handle else { throw StoreError(.closed, "the SQLite store is closed") }
        let statement: OpaquePointer
        if let cached = statements[sql] {
            statement = cached
        } else {
            var raw: OpaquePointer?
            let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
            guard rc == SQLITE_OK, let raw else { throw lastError(rc, context: "prepare") }
            statements[sql] = raw
            statement = raw
        }
        sqlite3_clear_bindings(statement)
        for (offset, value) in binds.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(statement, index)
            case .integer(let i): rc = sqlite3_bind_int64(statement, index, i)
            case .text(let s): rc = herald_sqlite3_bind_text_transient(statement, index, s, Int32(s.utf8.count))
            case .blob(let b):
                rc = b.withUnsafeBytes {
                    herald_sqlite3_bind_blob_transient(statement, index, $0.baseAddress, Int32(b.count))
                }
            }
            guard rc == SQLITE_OK else { throw lastError(rc, context: "bind") }
        }
        return statement
    }

    private func step(_ statement: OpaquePointer, _ sql: String) throws -> Bool {
        let rc = sqlite3_step(statement)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw lastError(rc, context: String(sql.prefix(40)))
        }
    }

    private func readRow(_ statement: OpaquePointer) -> [SQLiteValue] {
        (0..<sqlite3_column_count(statement)).map { column in
            switch sqlite3_column_type(statement, column) {
            case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, column))
            case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(statement, column)))
            case SQLITE_BLOB:
                let count = Int(sqlite3_column_bytes(statement, column))
                guard count > 0, let bytes = sqlite3_column_blob(statement, column) else { return .blob([]) }
                return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
            case SQLITE_FLOAT: return .integer(Int64(sqlite3_column_double(statement, column)))
            default: return .null
            }
        }
    }

    private func lastError(_ rc: Int32, context: String) -> StoreError {
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "no connection"
        return SQLiteConnection.error(rc, "\(context): \(message)")
    }

    /// Maps an SQLite result code to a ``StoreError``.
    static func error(_ rc: Int32, _ message: String) -> StoreError {
        switch rc & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED: StoreError(.unavailable, "database is locked by another writer (\(message))")
        case SQLITE_CONSTRAINT: StoreError(.constraint, message)
        case SQLITE_CORRUPT, SQLITE_NOTADB: StoreError(.corrupt, message)
        case SQLITE_CANTOPEN, SQLITE_IOERR, SQLITE_FULL, SQLITE_READONLY, SQLITE_PERM: StoreError(.unavailable, message)
        default: StoreError(.query, message)
        }
    }
}
