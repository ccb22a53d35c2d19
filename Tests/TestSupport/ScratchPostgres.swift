import ChildProcess
import Foundation

/// A PostgreSQL server of a test's own, started with `scripts/postgres.sh` under a unique name, for tests that
/// stop and start it: the shared test server the other suites use is never interrupted.
public struct ScratchPostgres: Sendable {
    /// The password `scripts/postgres.sh` gives its servers (never to appear in errors or logs).
    public static let password = "herald-test-pw"

    /// The server's name for `scripts/postgres.sh`.
    public let name: String
    /// `postgres://...` for the server's fresh database.
    public let url: String

    /// Starts a new server; `down` it when done.
    public static func start(prefix: String = "scratch") async throws -> ScratchPostgres {
        let name = "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
        let up = try await control(["up", name])
        guard let export = up.first(where: { $0.contains("HERALD_TEST_POSTGRES_URL=") }),
            let start = export.firstIndex(of: "'"), let end = export.lastIndex(of: "'"), start < end
        else { throw TimedOut(description: "postgres.sh up printed no URL") }
        return ScratchPostgres(name: name, url: String(export[export.index(after: start)..<end]))
    }

    /// `stop`, `start`, `restart` or `down`.
    public func control(_ command: String) async throws {
        _ = try await Self.control([command, name])
    }

    private static func control(_ arguments: [String]) async throws -> [String] {
        guard let path = ProcessInfo.processInfo.environment["HERALD_TEST_POSTGRES_SCRIPT"], !path.isEmpty else {
            throw TimedOut(
                description: "HERALD_TEST_POSTGRES_SCRIPT is not set: run the tests through scripts/test.sh")
        }
        // The script's last line says it succeeded: its exit is not awaited, since a server it starts lives on.
        let process = ChildProcess(URL(fileURLWithPath: path), arguments)
        try process.start()
        let done = "# postgres.sh \(arguments[0]) ok"
        let last = try await withDeadline(.seconds(120), "postgres.sh \(arguments[0])") {
            await process.line(containing: done)
        }
        guard last == done else {
            throw TimedOut(
                description: "postgres.sh \(arguments.joined(separator: " ")) failed: \(process.text(of: .stderr))")
        }
        return process.stdoutLines
    }
}

extension ChildProcess {
    /// The complete lines printed on stdout so far.
    public var stdoutLines: [String] {
        var lines = text(of: .stdout).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeLast()  // after the last newline: empty, or a line still being written
        return lines
    }
}
