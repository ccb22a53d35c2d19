import AsyncHTTPClient
import ChildProcess
import Foundation
import NIOCore
import Testing

/// The `herald` binary built next to this test bundle.
private var heraldBinary: URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("herald")
}

@Suite("herald emulator --bot-endpoint, the real binary")
struct EmulatorBotEndpointFlagTests {
    @Test("POST /emulator/install posts to the bot endpoint given on the command line")
    func postsToTheBot() async throws {
        try await TestBot.withRunning { bot in
            let process = ChildProcess(
                heraldBinary,
                [
                    "emulator", "--port", "0", "--app-id", "cli-app", "--app-password", "cli-secret",
                    "--bot-endpoint", bot.endpoint, "--log-level", "warning",
                ])
            try process.start()
            defer { process.kill() }
            let line = await process.line(containing: "listening")
            let origin = try #require(line.split(separator: " ").first { $0.hasPrefix("http://127.0.0.1:") })

            let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
            var request = HTTPClientRequest(url: "\(origin)/emulator/install")
            request.method = .POST
            request.body = .bytes(
                ByteBuffer(
                    string: #"{"scope":"personal","action":"add","tenantId":"t","user":{"aadObjectId":"aad-1"}}"#))
            let response = try await http.execute(request, timeout: .seconds(30))
            #expect(response.status == .ok)
            try await http.shutdown()
            #expect(bot.received.map { $0.json["type"] as? String } == ["installationUpdate", "conversationUpdate"])
            #expect(
                bot.received.first.flatMap { TokenParts($0.token ?? "")?.payload["aud"] as? String } == "cli-app")

            process.terminate()
            let termination = await process.exit(timeout: .seconds(30))
            #expect(termination == .init(status: 0, signalled: false, timedOut: false))
        }
    }

    @Test("a bot endpoint that is not an http(s) URL is one clear error line")
    func badEndpoint() async throws {
        let result = try await ChildProcess.run(
            heraldBinary, ["emulator", "--app-id", "a", "--app-password", "b", "--bot-endpoint", "localhost:3978"],
            timeout: .seconds(60))
        #expect(result.stderr.split(separator: "\n").contains("Error: --bot-endpoint must be an absolute http(s) URL"))
        #expect(result.status != 0)
    }
}
