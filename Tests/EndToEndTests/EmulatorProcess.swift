import ChildProcess
import Foundation
import TeamsEmulator
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The Teams emulator as its own process (`herald emulator`), as in production tests: the test process is busy
/// with many tests at once, and an emulator inside it would stamp requests late and in bunches when the
/// process is starved, counting them against Teams' windows at the wrong moments.
final class EmulatorProcess: Sendable {
    /// A conversation as `GET /emulator/conversations` lists it.
    struct Conversation: Sendable {
        struct Activity: Sendable {
            var id: String
            /// `send`, `update` or `delete`.
            var operation: String
            var body: [UInt8]?
        }

        var id: String
        var isGroup: Bool
        var userId: String?
        var activities: [Activity]
    }

    /// `GET /emulator/stats`.
    struct Stats: Decodable, Sendable {
        var requests: Int
        var apiRequests: Int
        var throttled: Int
        var errors: Int
        var activitiesSent: Int
        var graphInstalls: Int
        var graphThrottled: Int
        var graphRequests: Int
        var directoryReads: Int
        var conversationsCreated: Int
        var unanswered: Int
    }

    let process: ChildProcess
    let origin: String

    var serviceUrl: String { "\(origin)/teams/" }
    var tokenURL: String { "\(origin)/botframework.com/oauth2/v2.0/token" }

    /// Starts `herald emulator` and applies what `configuration` sets beyond its defaults.
    init(_ configuration: EmulatorConfiguration) async throws {
        process = ChildProcess(
            HeraldProcess.binary,
            [
                "emulator", "--port", "0", "--app-id", configuration.appId, "--app-password", configuration.appPassword,
                "--limits", configuration.limits.description,
            ])
        try process.start()
        let line = await process.line(containing: "listening on")
        guard let origin = line.split(separator: " ").first(where: { $0.hasPrefix("http://") }) else {
            process.kill()
            throw EmulatorProcessError(message: "the emulator did not start: \(process.text(of: .stderr).suffix(500))")
        }
        self.origin = String(origin)
        _ = try await request("POST", "config", body: Data(configuration.configBody()))
    }

    func conversations() async throws -> [Conversation] {
        let data = try await request("GET", "conversations")
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let list = try #require(object["conversations"] as? [[String: Any]])
        return try list.map { entry in
            let activities = (entry["activities"] as? [[String: Any]] ?? []).map { activity in
                Conversation.Activity(
                    id: activity["id"] as? String ?? "", operation: activity["operation"] as? String ?? "",
                    body: try? (activity["body"]).map { [UInt8](try JSONSerialization.data(withJSONObject: $0)) })
            }
            return Conversation(
                id: try #require(entry["id"] as? String), isGroup: entry["isGroup"] as? Bool ?? false,
                userId: entry["userId"] as? String, activities: activities)
        }
    }

    func stats() async throws -> Stats {
        try JSONDecoder().decode(Stats.self, from: try await request("GET", "stats"))
    }

    /// The access tokens the emulator issued that are still valid.
    func tokens() async throws -> [String] {
        struct Tokens: Decodable { var tokens: [String] }
        return try JSONDecoder().decode(Tokens.self, from: try await request("GET", "tokens")).tokens
    }

    /// `POST /emulator/<path>` with a JSON body; the JSON answer.
    func post(_ path: String, _ body: [String: Any]) async throws -> [String: Any] {
        let data = try await request("POST", path, body: try JSONSerialization.data(withJSONObject: body))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    var openIdMetadataURL: String { "\(origin)/emulator/openid/.well-known/openidconfiguration" }

    func stop() async {
        process.terminate()
        _ = await process.exit(timeout: .seconds(10))
        process.kill()
    }

    private func request(_ method: String, _ path: String, body: Data? = nil) async throws -> Data {
        var request = URLRequest(url: URL(string: "\(origin)/emulator/\(path)")!)
        request.httpMethod = method
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let (data, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw EmulatorProcessError(message: "\(method) /emulator/\(path): \(String(decoding: data, as: UTF8.self))")
        }
        return data
    }
}

struct EmulatorProcessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
