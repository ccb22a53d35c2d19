import ChildProcess
import Foundation
import TestSupport
import Testing

/// The `herald` binary built next to this test bundle, run as a separate process.
struct HeraldProcess {
    static var binary: URL { HeraldBinary.url }

    /// Runs `herald arguments...` to completion, failing after `timeout`.
    static func run(_ arguments: [String], timeout: Duration = .seconds(120)) async throws -> ChildProcess.Output {
        let output = try await ChildProcess.run(binary, arguments, timeout: timeout)
        if output.termination.timedOut {
            Issue.record("herald \(arguments.joined(separator: " ")) did not finish within \(timeout)")
        }
        return output
    }
}
