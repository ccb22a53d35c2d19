import ChildProcess
import Foundation
import HeraldDemo
import TeamsEmulator

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The demo's Teams: `herald emulator` in a process of its own, driven over its HTTP endpoints. Teams does not
/// share the bot's process; an emulator inside the demo's process would see requests when that busy process gets
/// to them, late and in bunches, and count them against Teams' windows at the wrong moments.
final class DemoEmulatorProcess: DemoTeams {
    let origin: String
    private let process: ChildProcess
    private let session: URLSession

    var serviceUrl: String { "\(origin)/teams/" }
    var tokenURL: String { "\(origin)/botframework.com/oauth2/v2.0/token" }
    var openIdMetadataURL: String { "\(origin)/emulator/openid/.well-known/openidconfiguration" }

    /// Starts `herald emulator` (this executable) with the app's credentials and applies `configuration`.
    init(_ configuration: EmulatorConfiguration) async throws {
        let herald = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let process = ChildProcess(
            herald,
            [
                "emulator", "--port", "0", "--app-id", configuration.appId, "--app-password",
                configuration.appPassword, "--limits", configuration.limits.description,
            ])
        try process.start()
        let line = await process.line(containing: "listening on")
        guard let origin = line.split(separator: " ").first(where: { $0.hasPrefix("http://") }) else {
            process.kill()
            throw DemoError("the Teams emulator did not start: \(process.text(of: .stderr).suffix(500))")
        }
        self.process = process
        self.origin = String(origin)
        let sessionConfiguration = URLSessionConfiguration.ephemeral
        sessionConfiguration.timeoutIntervalForRequest = 60
        self.session = URLSession(configuration: sessionConfiguration)
        do {
            _ = try await self.request("POST", "config", body: configuration.configBody())
        } catch {
            process.kill()
            throw error
        }
    }

    /// Runs `body` with the emulator started, and stops it afterwards however `body` ends.
    static func withRunning<T>(
        _ configuration: EmulatorConfiguration, _ body: (DemoEmulatorProcess) async throws -> T
    ) async throws -> T {
        let emulator = try await DemoEmulatorProcess(configuration)
        let result: Result<T, any Error>
        do {
            result = .success(try await body(emulator))
        } catch {
            result = .failure(error)
        }
        await emulator.stop()
        return try result.get()
    }

    /// Stops the emulator.
    func stop() async {
        process.terminate()
        _ = await process.exit(timeout: .seconds(5))
    }

    func install(_ request: TeamsInstall) async throws -> DemoInstall {
        var body: [String: Any] = [
            "scope": request.scope.rawValue, "action": request.action.rawValue, "tenantId": request.tenantId,
        ]
        var user: [String: Any] = ["aadObjectId": request.user.aadObjectId]
        user["name"] = request.user.name
        body["user"] = user
        if let team = request.team {
            var entry: [String: Any] = [:]
            entry["id"] = team.id
            entry["name"] = team.name
            body["team"] = entry
        }
        let answer = try await object(self.request("POST", "install", body: Self.json(body)))
        let activities = answer["activities"] as? [[String: Any]] ?? []
        return DemoInstall(
            conversationId: answer["conversationId"] as? String ?? "",
            statuses: activities.map { $0["status"] as? Int ?? 0 })
    }

    func conversations() async throws -> [DemoConversation] {
        let answer = try await object(self.request("GET", "conversations"))
        return (answer["conversations"] as? [[String: Any]] ?? []).map { entry in
            DemoConversation(
                id: entry["id"] as? String ?? "", isGroup: entry["isGroup"] as? Bool ?? false,
                activities: (entry["activities"] as? [[String: Any]] ?? []).map { activity in
                    DemoConversation.Activity(
                        id: activity["id"] as? String ?? "", operation: activity["operation"] as? String ?? "",
                        body: activity["body"].flatMap { try? Self.json($0) })
                })
        }
    }

    func click(_ click: TeamsClick) async throws -> Bool {
        var body: [String: Any] = ["conversationId": click.conversationId, "activityId": click.activityId]
        body["verb"] = click.verb
        let answer = try await object(self.request("POST", "click", body: Self.json(body)))
        return (answer["answer"] as? [String: Any])?["kind"] as? String == "card"
    }

    func setBotEndpoint(_ url: String) async throws {
        _ = try await request("POST", "config", body: Self.json(["botEndpoint": url]))
    }

    func stats() async throws -> EmulatorStats {
        let answer = try await object(self.request("GET", "stats"))
        func int(_ key: String) -> Int { answer[key] as? Int ?? 0 }
        var stats = EmulatorStats()
        stats.requests = int("requests")
        stats.throttled = int("throttled")
        stats.throttledBy = answer["throttledBy"] as? [String: Int] ?? [:]
        stats.conversationsCreated = int("conversationsCreated")
        stats.activitiesSent = int("activitiesSent")
        stats.activitiesUpdated = int("activitiesUpdated")
        stats.activitiesDeleted = int("activitiesDeleted")
        stats.graphRequests = int("graphRequests")
        stats.graphInstalls = int("graphInstalls")
        stats.directoryReads = int("directoryReads")
        return stats
    }

    // MARK: HTTP

    /// `METHOD /emulator/<path>`; the answer's body, or an error naming the status and what the emulator said.
    private func request(_ method: String, _ path: String, body: [UInt8]? = nil) async throws -> Data {
        var request = URLRequest(url: URL(string: "\(origin)/emulator/\(path)")!)
        request.httpMethod = method
        if let body {
            request.httpBody = Data(body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await session.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            throw DemoError(
                "the Teams emulator answered \(method) /emulator/\(path) with \(status): "
                    + String(decoding: data.prefix(300), as: UTF8.self))
        }
        return data
    }

    private func object(_ data: Data) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw DemoError("the Teams emulator answered something that is not a JSON object")
        }
        return object
    }

    private static func json(_ value: Any) throws -> [UInt8] {
        [UInt8](try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]))
    }
}
