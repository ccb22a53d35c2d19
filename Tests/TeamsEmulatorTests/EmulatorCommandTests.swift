import AsyncHTTPClient
import ChildProcess
import Foundation
import NIOCore
import Testing

/// The `herald` binary built next to this test bundle.
private var heraldBinary: URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("herald")
}

@Suite("herald emulator, the real binary")
struct EmulatorCommandTests {
    @Test("prints its URLs on one line, serves tokens, and exits 0 on SIGTERM")
    func runsUntilSignalled() async throws {
        let process = ChildProcess(
            heraldBinary,
            [
                "emulator", "--port", "0", "--app-id", "cli-app", "--app-password", "cli-secret",
                "--limits", "scaled:2", "--teams-app-id", "11111111-1111-1111-1111-111111111111", "--log-level",
                "warning",
            ])
        try process.start()
        defer { process.kill() }
        let line = await process.line(containing: "listening")
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
        let termination = await process.exit(timeout: .seconds(30))
        #expect(termination == .init(status: 0, signalled: false, timedOut: false), "exits 0 on SIGTERM")
    }

    @Test("a bad flag is one clear error line and a non-zero exit")
    func badFlag() async throws {
        let result = try await ChildProcess.run(
            heraldBinary, ["emulator", "--app-id", "a", "--app-password", "b", "--limits", "fast"],
            timeout: .seconds(60))
        #expect(result.stderr.split(separator: "\n").contains("Error: --limits must be teams, off or scaled:K"))
        #expect(result.status != 0)
        #expect(!result.termination.signalled)
    }
}
