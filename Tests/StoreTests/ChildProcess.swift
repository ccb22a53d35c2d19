import Foundation
import Synchronization
import Testing

/// The `herald` binary (built next to the test bundle) as a child process. Its stdout is read on a dispatch
/// thread and handed over as lines; its exit is observed through
/// `terminationHandler`: nothing blocks a cooperative thread.
final class ChildProcess: Sendable {
    static var heraldBinary: URL {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("herald").path),
            directory.path != "/"
        {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("herald")
    }

    private let process: Process
    let lines: AsyncStream<String>
    private let exit = Locked<(status: Int32?, waiter: CheckedContinuation<Int32, Never>?)>((nil, nil))
    private let stderrText = Locked("")

    init(_ arguments: [String], executable: URL = ChildProcess.heraldBinary) throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let (lines, continuation) = AsyncStream.makeStream(of: String.self)
        // Blocking reads on dedicated dispatch threads until EOF (never on the cooperative pool).
        let stdoutHandle = out.fileHandleForReading
        DispatchQueue(label: "herald.tests.child.stdout").async {
            var buffer = Data()
            while true {
                let chunk = stdoutHandle.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    continuation.yield(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                    buffer.removeSubrange(buffer.startIndex...newline)
                }
            }
            continuation.finish()
        }
        let stderrText = self.stderrText
        let stderrHandle = err.fileHandleForReading
        DispatchQueue(label: "herald.tests.child.stderr").async {
            while true {
                let chunk = stderrHandle.availableData
                if chunk.isEmpty { break }
                stderrText.withLock { $0 += String(decoding: chunk, as: UTF8.self) }
            }
        }
        self.process = process
        self.lines = lines
        let exit = self.exit
        process.terminationHandler = { process in
            let status = process.terminationStatus
            exit.withLock { state in
                state.status = status
                let waiter = state.waiter
                state.waiter = nil
                return waiter
            }?.resume(returning: status)
        }
        try process.run()
    }

    var stderr: String { stderrText.withLock { $0 } }

    func kill(_ signal: Int32 = SIGKILL) {
        Foundation.kill(process.processIdentifier, signal)
    }

    /// The exit status (or the signal number for a killed process).
    func waitForExit() async -> Int32 {
        await withCheckedContinuation { continuation in
            if let status = exit.withLock({ state -> Int32? in
                if let status = state.status { return status }
                state.waiter = continuation
                return nil
            }) {
                continuation.resume(returning: status)
            }
        }
    }

    /// Every stdout line until the process closes stdout.
    func allLines() async -> [String] {
        var all: [String] = []
        for await line in lines { all.append(line) }
        return all
    }
}

/// Runs `body`, failing with ``TimedOut`` if it takes longer than `timeout`.
func withDeadline<T: Sendable>(
    _ timeout: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw TimedOut(description: "\(what) took longer than \(timeout)")
        }
        return value
    }
}

/// A `Mutex` in a class, so closures can share it.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}
