import AsyncHTTPClient
import Foundation
import HeraldHTTP
import Synchronization
import TeamsEmulator
import TestSupport
import Testing

@testable import Gateway

@Suite("Gateway: the Bot Framework signing keys")
struct OpenIDKeyCacheTests {
    /// The emulator's metadata behind a server that answers 503 until `failures` requests have been refused.
    static func withFlakyMetadata(
        failures: Int, _ body: @Sendable (TeamsEmulator, String, @escaping @Sendable () -> Int) async throws -> Void
    ) async throws {
        let configuration = EmulatorConfiguration(appId: "app", appPassword: "secret", limits: .off)
        try await TeamsEmulator.withRunning(configuration: configuration, logger: logger) { emulator in
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = Task { try? await http.shutdown() } }
            let served = Atomic<Int>(0)
            let metadataURL = emulator.openIdMetadataURL
            let server = try await HTTPServer.bind(logger: logger) { _ in
                let count = served.add(1, ordering: .relaxed).newValue
                guard count > failures else { return .json(.serviceUnavailable, "{}") }
                let response = try? await http.execute(HTTPClientRequest(url: metadataURL), timeout: .seconds(10))
                guard let response, let body = try? await response.body.collect(upTo: 1 << 20) else {
                    return .json(.badGateway, "{}")
                }
                return .json(.ok, body)
            }
            let serving = Task { try await server.run() }
            defer {
                server.shutdown()
                serving.cancel()
            }
            try await body(emulator, "http://127.0.0.1:\(server.port)/metadata", { served.load(ordering: .relaxed) })
        }
    }

    @Test func aGatewayWhoseFirstKeyFetchFailsBecomesReadyOnceTheMetadataAnswers() async throws {
        try await Self.withFlakyMetadata(failures: 2) { emulator, url, served in
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = Task { try? await http.shutdown() } }
            let keys = OpenIDKeyCache(
                metadataURL: url, http: http, logger: logger, retryAfterFailure: .milliseconds(50))
            let reading = Task { await keys.readUntilKnown() }
            defer { reading.cancel() }
            try await eventually(within: .seconds(30), "keys read after two refusals") { keys.isReady }
            #expect(served() == 3)
            let validator = BotTokenValidator(keys: keys, appId: "app", issuers: ["https://api.botframework.com"])
            let token = emulator.botToken(.valid, serviceUrl: emulator.serviceUrl)
            let verified = try await validator.verify(authorization: "Bearer \(token)")
            #expect(throws: Never.self) {
                try validator.check(verified, channelId: "msteams", serviceUrl: emulator.serviceUrl)
            }
        }
    }

    @Test func anUnknownKeyIdFetchesTheKeysAgainOnlyOncePerFiveMinutes() async throws {
        try await Self.withFlakyMetadata(failures: 0) { _, url, served in
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = Task { try? await http.shutdown() } }
            let clock = Mutex(ContinuousClock.now)
            let keys = OpenIDKeyCache(metadataURL: url, http: http, logger: logger, now: { clock.withLock { $0 } })
            #expect(try await keys.key("nobody") == nil)
            #expect(served() == 1, "the first lookup reads the keys")
            for _ in 0..<100 { #expect(try await keys.key(UUID().uuidString) == nil) }
            #expect(served() == 1, "unknown ids within 5 minutes of the last fetch fetch nothing")
            clock.withLock { $0 += .seconds(301) }
            for _ in 0..<100 { #expect(try await keys.key(UUID().uuidString) == nil) }
            #expect(served() == 2, "one fetch after 5 minutes, however many unknown ids")
            clock.withLock { $0 += .seconds(86_401) }
            _ = try await keys.key("nobody")
            #expect(served() == 3, "keys older than a day are read again")
        }
    }
}
