import ChildProcess
import Foundation
import Testing

/// The `herald` binary built next to this test bundle, run as a separate process.
struct HeraldProcess {
    static var binary: URL {
        // The test bundle and the products of one build share a directory.
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("herald").path),
            directory.path != "/"
        {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("herald")
    }

    /// Runs `herald arguments...` to completion, failing after `timeout`.
    static func run(_ arguments: [String], timeout: Duration = .seconds(120)) async throws -> ChildProcess.Output {
        let output = try await ChildProcess.run(binary, arguments, timeout: timeout)
        if output.termination.timedOut {
            Issue.record("herald \(arguments.joined(separator: " ")) did not finish within \(timeout)")
        }
        return output
    }
}
