import Dispatch
import Foundation
import Synchronization

/// A child process whose output and exit are awaited without blocking a thread.
///
/// `Process.waitUntilExit()` and `FileHandle.readToEnd()` block the calling thread; on Swift's cooperative
/// pool (two threads on a two-core machine) that stalls every other task in the process. Here the pipes are
/// drained on dispatch threads and the exit is reported by the termination handler, and callers await both.
///
/// Only tests and `herald bench` use it. Kept rather than swift-subprocess 1.0.2, measured on a two-core machine:
/// Subprocess would add ~13 s to a clean build and spawns no faster (`/bin/echo` run to completion 300 times:
/// p50 1.9 ms for both in debug, 2.5 vs 2.2 ms in release), and it would not remove this file. Subprocess scopes a
/// running process to the body of one `run` closure, while 15 of the 21 places that start a process here keep it
/// across test steps (a worker or emulator started, awaited until it prints a line, stopped with SIGKILL
/// mid-delivery, started again) or hand it to a rig that outlives the call: an adapter like this one would wrap it.
public final class ChildProcess: Sendable {
    /// How a finished process ended.
    public struct Termination: Sendable, Equatable {
        /// The exit status, or the signal number when ``signalled`` is true.
        public var status: Int32
        /// True when a signal ended the process.
        public var signalled: Bool
        /// True when the process ran longer than its timeout and was terminated.
        public var timedOut: Bool

        public init(status: Int32, signalled: Bool, timedOut: Bool) {
            self.status = status
            self.signalled = signalled
            self.timedOut = timedOut
        }
    }

    /// Everything a finished process printed, and how it ended.
    public struct Output: Sendable {
        public var termination: Termination
        public var stdout: String
        public var stderr: String
        /// The exit status (the signal number if a signal ended it).
        public var status: Int32 { termination.status }
    }

    /// One of the child's output streams.
    public enum Stream: Sendable {
        case stdout
        case stderr
    }

    private struct State {
        var text: [String] = ["", ""]
        var closed = [false, false]
        var termination: Termination?
        var lineWaiters: [(id: Int, stream: Int, needle: String, continuation: CheckedContinuation<String, Never>)] = []
        var nextWaiterId = 0
        var exitWaiters: [CheckedContinuation<Termination, Never>] = []
    }

    private let process: Process
    private let collectsOutput: Bool
    private let state: Mutex<State>
    private let timedOut = Atomic<Bool>(false)

    /// Prepares `executable arguments...`; nothing runs until ``start()``.
    ///
    /// With `collectOutput` false, the child's stdout and stderr go to `/dev/null`.
    public init(
        _ executable: URL, _ arguments: [String], environment: [String: String]? = nil, collectOutput: Bool = true
    ) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        self.process = process
        self.collectsOutput = collectOutput
        var state = State()
        if !collectOutput { state.closed = [true, true] }
        self.state = Mutex(state)
    }

    /// Starts the process; its output is collected from now on.
    public func start() throws {
        var readers: [FileHandle] = []
        if collectsOutput {
            let (stdout, stderr) = (Pipe(), Pipe())
            process.standardOutput = stdout
            process.standardError = stderr
            readers = [stdout.fileHandleForReading, stderr.fileHandleForReading]
        } else {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        process.terminationHandler = { [self] process in
            let termination = Termination(
                status: process.terminationStatus,
                signalled: process.terminationReason == .uncaughtSignal,
                timedOut: self.timedOut.load(ordering: .acquiring)
            )
            self.finished(termination)
        }
        try process.run()
        // Each pipe is drained by blocking reads on its own dispatch thread until end of file: never on
        // Swift's cooperative pool, and without readability handlers, which can miss the end of file.
        for (index, reader) in readers.enumerated() {
            DispatchQueue.global().async { [self] in
                while true {
                    let data = reader.availableData
                    self.received(data.isEmpty ? nil : String(decoding: data, as: UTF8.self), stream: index)
                    if data.isEmpty { break }
                }
                try? reader.close()
            }
        }
    }

    /// Sends SIGTERM.
    public func terminate() {
        if process.isRunning { process.terminate() }
    }

    /// Sends SIGKILL.
    public func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }

    /// The process id.
    public var processIdentifier: Int32 { process.processIdentifier }

    /// Whether the child has started and not yet exited.
    public var isRunning: Bool { process.isRunning }

    /// What the process printed on `stream` so far.
    public func text(of stream: Stream) -> String {
        state.withLock { $0.text[stream.index] }
    }

    /// The first complete line on `stream` containing `needle`, or "" if the stream ends without one or the
    /// task is cancelled.
    public func line(containing needle: String, on stream: Stream = .stdout) async -> String {
        let index = stream.index
        let id = state.withLock { state in
            state.nextWaiterId += 1
            return state.nextWaiterId
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let found: String? = state.withLock { state in
                    if let line = Self.completeLine(in: state, stream: index, containing: needle) { return line }
                    if state.closed[index] || Task.isCancelled { return "" }
                    state.lineWaiters.append((id, index, needle, continuation))
                    return nil
                }
                if let found { continuation.resume(returning: found) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                state.lineWaiters.firstIndex { $0.id == id }.map { state.lineWaiters.remove(at: $0).continuation }
            }
            waiter?.resume(returning: "")
        }
    }

    /// Waits for the process to exit and for both streams to end.
    ///
    /// With a `timeout`, a process still running after it gets SIGTERM, then SIGKILL a few seconds later,
    /// and the result says ``Termination/timedOut``.
    public func exit(timeout: Duration? = nil) async -> Termination {
        guard let timeout else { return await exited() }
        return await withTaskGroup(of: Termination?.self) { group in
            group.addTask { await self.exited() }
            group.addTask {
                guard (try? await Task.sleep(for: timeout)) != nil else { return nil }
                self.timedOut.store(true, ordering: .releasing)
                self.terminate()
                guard (try? await Task.sleep(for: .seconds(5))) != nil else { return nil }
                self.kill()
                return nil
            }
            while let next = await group.next() {
                if let termination = next {
                    group.cancelAll()
                    return termination
                }
            }
            return await self.exited()
        }
    }

    /// Runs `executable arguments...` to completion and returns what it printed.
    public static func run(
        _ executable: URL,
        _ arguments: [String],
        environment: [String: String]? = nil,
        timeout: Duration = .seconds(120),
        collectOutput: Bool = true
    ) async throws -> Output {
        let child = ChildProcess(executable, arguments, environment: environment, collectOutput: collectOutput)
        try child.start()
        let termination = await child.exit(timeout: timeout)
        return Output(termination: termination, stdout: child.text(of: .stdout), stderr: child.text(of: .stderr))
    }

    // MARK: - Internals

    private func exited() async -> Termination {
        await withCheckedContinuation { continuation in
            let done: Termination? = state.withLock { state in
                if let termination = state.termination, state.closed == [true, true] { return termination }
                state.exitWaiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    private func received(_ chunk: String?, stream: Int) {
        let (lines, exits) = state.withLock { state in
            if let chunk { state.text[stream] += chunk } else { state.closed[stream] = true }
            return Self.takeReady(&state)
        }
        for (continuation, line) in lines { continuation.resume(returning: line) }
        for (continuation, termination) in exits { continuation.resume(returning: termination) }
    }

    private func finished(_ termination: Termination) {
        let exits = state.withLock { state in
            state.termination = termination
            return Self.takeReady(&state).exits
        }
        for (continuation, termination) in exits { continuation.resume(returning: termination) }
    }

    private static func takeReady(
        _ state: inout State
    ) -> (
        lines: [(CheckedContinuation<String, Never>, String)],
        exits: [(CheckedContinuation<Termination, Never>, Termination)]
    ) {
        var lines: [(CheckedContinuation<String, Never>, String)] = []
        var waiting = state.lineWaiters
        waiting.removeAll { waiter in
            if let line = completeLine(in: state, stream: waiter.stream, containing: waiter.needle) {
                lines.append((waiter.continuation, line))
                return true
            }
            if state.closed[waiter.stream] {
                lines.append((waiter.continuation, ""))
                return true
            }
            return false
        }
        state.lineWaiters = waiting
        guard let termination = state.termination, state.closed == [true, true] else { return (lines, []) }
        let exits = state.exitWaiters.map { ($0, termination) }
        state.exitWaiters = []
        return (lines, exits)
    }

    /// The first line containing `needle` that has been fully written (ended by a newline or by the end of output).
    private static func completeLine(in state: State, stream: Int, containing needle: String) -> String? {
        var lines = state.text[stream].split(separator: "\n", omittingEmptySubsequences: false)
        if !state.closed[stream] { lines.removeLast() }
        return lines.first { $0.contains(needle) }.map(String.init)
    }
}

extension ChildProcess.Stream {
    fileprivate var index: Int {
        switch self {
        case .stdout: 0
        case .stderr: 1
        }
    }
}
