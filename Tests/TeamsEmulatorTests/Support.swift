import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Synchronization
import TeamsEmulator

/// A clock tests move by hand.
final class ManualClock: Sendable {
    private let base = ContinuousClock.now
    private let offset = Mutex(Duration.zero)

    func now() -> ContinuousClock.Instant { self.base + self.offset.withLock { $0 } }

    func advance(by duration: Duration) { self.offset.withLock { $0 += duration } }
}

/// Raw HTTP against a running emulator, to check its wire behaviour without Herald's client.
struct RawClient: Sendable {
    let emulator: TeamsEmulator
    let http: HTTPClient

    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]

        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(self.body))) as? [String: Any] ?? [:]
        }

        /// `error.code` of an ErrorResponse.
        var errorCode: String? { (self.json["error"] as? [String: Any])?["code"] as? String }
    }

    func request(
        _ method: HTTPMethod, _ path: String, body: String? = nil, token: String? = nil,
        contentType: String = "application/json"
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: self.emulator.origin + path)
        request.method = method
        if let token { request.headers.add(name: "authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "content-type", value: contentType)
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await self.http.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name.lowercased()] = header.value }
        return Reply(status: Int(response.status.code), headers: headers, body: Array(buffer: bytes))
    }

    func token(secret: String = "secret", scope: String = "https://api.botframework.com/.default") async throws -> Reply
    {
        let form =
            "grant_type=client_credentials&client_id=app-id&client_secret=\(secret)&scope="
            + (scope.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        return try await self.request(
            .POST, "/contoso.onmicrosoft.com/oauth2/v2.0/token", body: form,
            contentType: "application/x-www-form-urlencoded")
    }

    func validToken() async throws -> String {
        try await self.token().json["access_token"] as! String
    }
}

/// Runs `body` with an emulator on a random loopback port and a raw HTTP client.
func withEmulator<T: Sendable>(
    _ configuration: EmulatorConfiguration = EmulatorConfiguration(
        appId: "app-id", appPassword: "secret", limits: .off),
    now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
    _ body: (RawClient) async throws -> T
) async throws -> T {
    try await TeamsEmulator.withRunning(configuration: configuration, logger: Logger(label: "test"), now: now) {
        emulator in
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        do {
            let result = try await body(RawClient(emulator: emulator, http: http))
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }
}

let tenant = "tenant-1"

func createChatBody(_ user: String, tenantId: String = tenant) -> String {
    #"{"bot":{"id":"28:app-id"},"members":[{"id":"\#(user)"}],"channelData":{"tenant":{"id":"\#(tenantId)"}},"tenantId":"\#(tenantId)"}"#
}
