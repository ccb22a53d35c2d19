import Foundation
import Store
import Testing

@Suite("Schema migrations", .timeLimit(.minutes(2)))
struct MigrationTests {
    @Test(arguments: Backend.allCases)
    func migratesFromEmptyAndReRunsAsANoOp(_ backend: Backend) async throws {
        let location = try TestLocation.make(backend)
        defer { location.cleanUp() }
        try await withStore(url: location.url, logger: testLogger, options: location.options, migrate: false) { store in
            // Before migrating, the tables do not exist.
            await #expect(throws: StoreError.self) { _ = try await store.reference(key: "k") }
            #expect(try await store.migrate() == 6)
            #expect(try await store.migrate() == 6)
            try await store.upsertReferences([reference("k")])
        }
        // Reopened: the data is there and migrating again changes nothing.
        try await withStore(url: location.url, logger: testLogger, options: location.options) {
            (store) async throws -> Void in
            #expect(try await store.reference(key: "k") != nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func concurrentStartUpsMigrateOnce(_ backend: Backend) async throws {
        let location = try TestLocation.make(backend)
        defer { location.cleanUp() }
        // Five workers start at once, each with its own store (and connection/file handle).
        let versions = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<5 {
                group.addTask {
                    try await withStore(
                        url: location.url, logger: testLogger, options: location.options, migrate: false
                    ) {
                        try await $0.migrate()
                    }
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(versions == [6, 6, 6, 6, 6])
        try await withStore(url: location.url, logger: testLogger, options: location.options) { store in
            try await store.upsertReferences([reference("after")])
            #expect(try await store.reference(key: "after") != nil)
        }
    }

    /// `herald run` with its gateway opens two stores on one file at once; so may a CLI command beside a new
    /// worker. Switching a new file to WAL needs a lock SQLite does not wait for: the slower one must retry.
    @Test func twoSQLiteStoresOpeningOneNewFileTogetherBothOpen() async throws {
        for _ in 0..<10 {
            let location = try TestLocation.make(.sqlite)
            defer { location.cleanUp() }
            let opened = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await withStore(url: location.url, logger: testLogger, options: location.options) { store in
                            try await store.upsertReferences([reference("both-\(UUID().uuidString)")])
                            return 1
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(opened == 2)
        }
    }
}
