import AsyncHTTPClient
import Foundation
import HeraldHTTP
import JWTKit
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Synchronization
import TeamsEmulator

/// The claims of a Bot Framework token, checked the way the gateway checks them (5 minutes of skew).
struct BotClaims: JWTPayload {
    var iss: IssuerClaim
    var aud: AudienceClaim
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim
    var iat: IssuedAtClaim
    var serviceurl: String

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try self.exp.verifyNotExpired(currentDate: Date() - 300)
        try self.nbf.verifyNotBefore(currentDate: Date() + 300)
    }
}

/// A token check like the gateway's, against the JWKS the emulator serves, fetched over HTTP.
struct BotTokenVerifier: Sendable {
    let keys: JWTKeyCollection
    /// Each key's endorsements, by kid.
    let endorsements: [String: [String]]
    let appId: String

    /// Fetches the OpenID metadata, then the keys it points to.
    static func fetch(_ metadataURL: String, appId: String, http: HTTPClient) async throws -> BotTokenVerifier {
        let metadata = try await getJSON(metadataURL, http: http)
        guard let jwksURI = metadata.object["jwks_uri"] as? String else { throw Missing(what: "jwks_uri") }
        let jwks = try await getJSON(jwksURI, http: http)
        var endorsements: [String: [String]] = [:]
        for key in jwks.object["keys"] as? [[String: Any]] ?? [] {
            if let kid = key["kid"] as? String { endorsements[kid] = key["endorsements"] as? [String] ?? [] }
        }
        let keys = JWTKeyCollection()
        try await keys.add(jwksJSON: jwks.text)
        return BotTokenVerifier(keys: keys, endorsements: endorsements, appId: appId)
    }

    /// The claims when `token` is one Teams would send for an activity with `serviceUrl`, else nil.
    func verify(_ token: String, serviceUrl: String) async -> BotClaims? {
        guard let header = TokenParts(token)?.header, header["alg"] as? String == "RS256",
            let kid = header["kid"] as? String, self.endorsements[kid]?.contains("msteams") == true,
            let claims = try? await self.keys.verify(token, as: BotClaims.self),
            claims.iss.value == "https://api.botframework.com", claims.aud.value == [self.appId],
            claims.serviceurl == serviceUrl
        else { return nil }
        return claims
    }

    struct Missing: Error {
        var what: String
    }
}

/// A JWT's header and payload, decoded without checking anything.
struct TokenParts {
    var header: [String: Any]
    var payload: [String: Any]
    var signature: String

    init?(_ token: String) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Self.object(parts[0]), let payload = Self.object(parts[1]) else {
            return nil
        }
        self.header = header
        self.payload = payload
        self.signature = String(parts[2])
    }

    static func object(_ part: Substring) -> [String: Any]? {
        var text = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        guard let data = Data(base64Encoded: text) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}

/// `GET url` as JSON text and object.
func getJSON(_ url: String, http: HTTPClient) async throws -> (text: String, object: [String: Any]) {
    let response = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
    let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
    let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    return (text, object)
}

/// A bot's messaging endpoint for the emulator to post to: records every request, answers the statuses scripted
/// for it (then 200, or what its responder answers), and with a verifier answers 401 to requests whose token does
/// not verify.
struct TestBot: Sendable {
    typealias Responder = @Sendable (Received) async -> HTTPResponse

    struct Received: Sendable {
        var authorization: String?
        var contentType: String?
        var body: [UInt8]
        /// Whether the bearer token verified (nil without a verifier).
        var verified: Bool?

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(self.body))) as? [String: Any] ?? [:] }
        var token: String? { self.authorization.map { String($0.dropFirst("Bearer ".count)) } }
    }

    /// What the bot received and will answer.
    final class Recorder: Sendable {
        let state = Mutex<(received: [Received], script: [Int], verifier: BotTokenVerifier?)>(([], [], nil))
        let responder = Mutex<Responder?>(nil)

        func handle(_ request: HTTPRequest) async -> HTTPResponse {
            let authorization = request.headers.first(name: "authorization")
            let body = request.bodyBytes
            let verifier = self.state.withLock { $0.verifier }
            var verified: Bool?
            if let verifier {
                let serviceUrl =
                    ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any])?["serviceUrl"] as? String
                let token = authorization.map { String($0.dropFirst("Bearer ".count)) } ?? ""
                verified = await verifier.verify(token, serviceUrl: serviceUrl ?? "") != nil
            }
            let received = Received(
                authorization: authorization, contentType: request.headers.first(name: "content-type"), body: body,
                verified: verified)
            let (status, scripted): (Int, Bool) = self.state.withLock { state in
                state.received.append(received)
                if verified == false { return (401, true) }
                return state.script.isEmpty ? (200, false) : (state.script.removeFirst(), true)
            }
            if !scripted, let responder = self.responder.withLock({ $0 }) { return await responder(received) }
            return .json(HTTPResponseStatus(statusCode: status), status == 200 ? #"{"ok":true}"# : "{}")
        }
    }

    let recorder: Recorder
    let server: HTTPServer

    /// `http://127.0.0.1:PORT/api/messages`
    var endpoint: String { "http://127.0.0.1:\(self.server.port)/api/messages" }

    var received: [Received] { self.recorder.state.withLock { $0.received } }

    /// The next requests are answered with these statuses, in order.
    func script(_ statuses: [Int]) { self.recorder.state.withLock { $0.script = statuses } }

    func verify(with verifier: BotTokenVerifier) { self.recorder.state.withLock { $0.verifier = verifier } }

    /// Requests neither refused nor scripted are answered by `responder` from now on.
    func answer(with responder: @escaping Responder) { self.recorder.responder.withLock { $0 = responder } }

    /// Runs `body` with a bot listening on a free loopback port.
    static func withRunning<T: Sendable>(_ body: (TestBot) async throws -> T) async throws -> T {
        let recorder = Recorder()
        let server = try await HTTPServer.bind(logger: Logger(label: "test-bot")) { request in
            await recorder.handle(request)
        }
        let bot = TestBot(recorder: recorder, server: server)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            defer { server.shutdown() }
            return try await body(bot)
        }
    }
}

/// An emulator configured with `bot`'s endpoint, a raw client, and a verifier of the tokens it signs.
func withEmulatorAndBot<T: Sendable>(
    verifying: Bool = true,
    _ body: (RawClient, TestBot) async throws -> T
) async throws -> T {
    try await TestBot.withRunning { bot in
        var configuration = EmulatorConfiguration(appId: "app-id", appPassword: "secret", limits: .off)
        configuration.botEndpoint = bot.endpoint
        return try await withEmulator(configuration) { raw in
            // The signing keys are made on first use: make them now, outside any request's deadline.
            _ = raw.emulator.botToken()
            if verifying {
                bot.verify(
                    with: try await BotTokenVerifier.fetch(
                        raw.emulator.openIdMetadataURL, appId: "app-id", http: raw.http))
            }
            return try await body(raw, bot)
        }
    }
}

/// A condition a test fulfils once; whoever waits for it waits until then (a bot that answers too late, without
/// sleeping for a guessed time).
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let open = self.state.withLock { state in
                if !state.open { state.waiters.append(continuation) }
                return state.open
            }
            if open { continuation.resume() }
        }
    }

    func open() {
        let waiters = self.state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
