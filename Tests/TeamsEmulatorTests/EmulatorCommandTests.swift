import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization
import Testing

/// The `herald` binary built next to this test bundle.
private var heraldBinary: URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("herald")
}

/// Collects a pipe's output and lets a test await a line that contains some text.
private final class LineWaiter: Sendable {
    private struct State {
        var text = ""
        var waiters: [(String, CheckedContinuation<String, Never>)] = []
        var closed = false
    }

    private let state = Mutex(State())

    init(_ pipe: Pipe) {
        pipe.fileHandleForReading.readabilityHandler = { [self] handle in
            let data = handle.availableData
            self.append(data.isEmpty ? nil : String(decoding: data, as: UTF8.self))
            if data.isEmpty { handle.readabilityHandler = nil }
        }
    }

    private func append(_ chunk: String?) {
        let ready: [(CheckedContinuation<String, Never>, String)] = self.state.withLock { state in
            if let chunk { state.text += chunk } else { state.closed = true }
            var ready: [(CheckedContinuation<String, Never>, String)] = []
            state.waiters.removeAll { needle, continuation in
                if let line = Self.completeLine(in: state.text, containing: needle, closed: state.closed) {
                    ready.append((continuation, line))
                    return true
                }
                if state.closed {
                    ready.append((continuation, ""))
                    return true
                }
                return false
            }
            return ready
        }
        for (continuation, line) in ready { continuation.resume(returning: line) }
    }

    /// The first line containing `needle`, or "" if the output ends without one.
    func line(containing needle: String) async -> String {
        await withCheckedContinuation { continuation in
            let found: String? = self.state.withLock { state in
                if let line = Self.completeLine(in: state.text, containing: needle, closed: state.closed) {
                    return line
                }
                if state.closed { return "" }
                state.waiters.append((needle, continuation))
                return nil
            }
            if let found { continuation.resume(returning: found) }
        }
    }

    var text: String { self.state.withLock { $0.text } }

    /// The first line with `needle` that has been fully written (ended by a newline, or by the end of output).
    private static func completeLine(in text: String, containing needle: String, closed: Bool) -> String? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if !closed { lines.removeLast() }
        return lines.first { $0.contains(needle) }.map(String.init)
    }
}

@Suite("herald emulator, the real binary")
struct EmulatorCommandTests {
    @Test("prints its URLs on one line, serves tokens, and exits 0 on SIGTERM")
    func runsUntilSignalled() async throws {
        let process = Process()
        process.executableURL = heraldBinary
        process.arguments = [
            "emulator", "--port", "0", "--app-id", "cli-app", "--app-password", "cli-secret",
            "--limits", "scaled:2", "--log-level", "warning",
        ]
        let output = Pipe()
        process.standardOutput = output
        let lines = LineWaiter(output)
        let exited = Self.exitStream(of: process)
        try process.run()
        let line = await lines.line(containing: "listening")
        #expect(line.contains("serviceUrl http://127.0.0.1:"))
        #expect(line.contains("/botframework.com/oauth2/v2.0/token"))
        let origin = try #require(line.split(separator: " ").first { $0.hasPrefix("http://127.0.0.1:") })

        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        var request = HTTPClientRequest(url: "\(origin)/botframework.com/oauth2/v2.0/token")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(
            ByteBuffer(
                string:
                    "grant_type=client_credentials&client_id=cli-app&client_secret=cli-secret&scope=https%3A%2F%2Fapi.botframework.com%2F.default"
            ))
        let response = try await http.execute(request, timeout: .seconds(10))
        #expect(response.status == .ok)
        try await http.shutdown()

        process.terminate()
        for await _ in exited { break }
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
    }

    @Test("a bad flag is one clear error line and a non-zero exit")
    func badFlag() async throws {
        let process = Process()
        process.executableURL = heraldBinary
        process.arguments = ["emulator", "--app-id", "a", "--app-password", "b", "--limits", "fast"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = Pipe()
        let lines = LineWaiter(errors)
        let exited = Self.exitStream(of: process)
        try process.run()
        let line = await lines.line(containing: "Error:")
        #expect(line == "Error: --limits must be teams, off or scaled:K")
        for await _ in exited { break }
        #expect(process.terminationStatus != 0)
    }

    /// Yields once when `process` exits; set up before the process starts so the exit cannot be missed.
    private static func exitStream(of process: Process) -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in
            continuation.yield()
            continuation.finish()
        }
        return stream
    }
}
