import ChildProcess
import Foundation
import Logging
import Store
import Testing

/// Silent unless HERALD_TEST_LOG is set.
let testLogger: Logger = {
    guard ProcessInfo.processInfo.environment["HERALD_TEST_LOG"] != nil else {
        return Logger(label: "store-tests", factory: { _ in SwiftLogNoOpLogHandler() })
    }
    var logger = Logger(label: "store-tests", factory: { StreamLogHandler.standardError(label: $0) })
    logger.logLevel = .debug
    return logger
}()

/// The two real backends every shared test runs against.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }
}

struct MissingPostgres: Error, CustomStringConvertible {
    var description: String {
        "HERALD_TEST_POSTGRES_URL is not set: run the tests through scripts/test.sh (it starts PostgreSQL), "
            + "or eval \"$(scripts/postgres.sh up)\" first"
    }
}

/// A fresh, empty store location for one test: a new SQLite file, or a new PostgreSQL schema in the test database.
struct TestLocation: Sendable {
    let url: String
    let options: StoreOptions
    let folder: URL?

    static func make(_ backend: Backend) throws -> TestLocation {
        var options = StoreOptions()
        options.operationTimeout = .seconds(20)
        switch backend {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "herald-store-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            return TestLocation(url: "sqlite://\(folder.path)/herald.db", options: options, folder: folder)
        case .postgres:
            guard let url = ProcessInfo.processInfo.environment["HERALD_TEST_POSTGRES_URL"], !url.isEmpty else {
                throw MissingPostgres()
            }
            options.postgresSchema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            return TestLocation(url: url, options: options, folder: nil)
        }
    }

    /// The URL naming the schema too, for a second process.
    var processURL: String {
        guard let schema = options.postgresSchema else { return url }
        return url + (url.contains("?") ? "&" : "?") + "schema=\(schema)"
    }

    func cleanUp() {
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }
}

/// Runs `body` with a migrated store on a fresh location of `backend`.
func withTestStore<T: Sendable>(
    _ backend: Backend, _ body: @Sendable (any HeraldStore, TestLocation) async throws -> T
) async throws -> T {
    let location = try TestLocation.make(backend)
    defer { location.cleanUp() }
    return try await withStore(url: location.url, logger: testLogger, options: location.options) { store in
        try await body(store, location)
    }
}

func reference(
    _ key: String, tenant: String = "Tenant-A", user: String? = nil, aad: String? = nil
) -> ConversationReference {
    ConversationReference(
        key: key, conversationId: "a:conv-\(key)", serviceUrl: "https://smba.trafficmanager.net/emea/",
        tenantId: tenant, userId: user, aadObjectId: aad, scope: .personal, botId: "28:bot",
        updatedAt: Date(timeIntervalSince1970: 1_700_000_000))
}

/// The `herald` binary built next to this test bundle.
var heraldBinary: URL {
    let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var directory = bundle.deletingLastPathComponent()
    while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("herald").path),
        directory.path != "/"
    {
        directory.deleteLastPathComponent()
    }
    return directory.appendingPathComponent("herald")
}
