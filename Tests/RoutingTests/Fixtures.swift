import Foundation
import HeraldJSON

@testable import Routing

enum Fixtures {
    /// The package root, found from this file's place in Tests/RoutingTests.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let examples = packageRoot.appendingPathComponent("deploy/examples")

    static func record(_ json: String, headers: [(String, String)] = [], offset: Int64 = 7) -> InboundRecord {
        InboundRecord(
            topic: "notifications", partition: 2, offset: offset, value: Array(json.utf8),
            headers: headers.map { ($0.0, Array($0.1.utf8)) })
    }

    static func event(
        type: String = "com.example.helpdesk.ticket.assigned", source: String = "/helpdesk/eu-1",
        data: JSONValue, id: String = "evt-1", time: String? = "2025-06-15T09:30:00Z"
    ) -> NotificationEvent {
        NotificationEvent(
            id: id, type: type, source: source, time: time, data: data,
            input: InputPosition(topic: "notifications", partition: 0, offset: 1))
    }

    /// Routes compiled from YAML text, with card templates from `cards` by file name.
    static func routes(_ yaml: String, cards: [String: String] = [:]) throws -> Router {
        let (set, problems) = RouteSet.parse(yaml: yaml, file: "routes.yaml") { path in
            (path, cards[path].map { Array($0.utf8) })
        }
        guard problems.isEmpty, let set else {
            throw FixtureError(message: problems.map(\.description).joined(separator: "\n"))
        }
        return Router(routes: set.routes)
    }

    /// A temporary folder with `files` (path -> contents), removed by the caller.
    static func folder(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herald-test-\(UUID().uuidString)")
        for (path, contents) in files {
            let url = dir.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try contents.write(to: url, atomically: true, encoding: .utf8)
        }
        return dir
    }

    struct FixtureError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    static let ticketData: JSONValue = [
        "id": "HD-4711", "title": "Printer jams", "priority": "high", "actor": "Dana", "team": "facilities",
        "tenantId": "72F988BF-86F1-41AF-91AB-2D7CD011DB47",
        "assignee": ["aadObjectId": "8d3f2c1a", "timeZone": "Europe/Berlin"],
        "customer": ["name": "Contoso", "url": "https://helpdesk.example.com/customers/42"],
        "url": "https://helpdesk.example.com/tickets/HD-4711",
    ]
}

extension JSONValue {
    /// A copy of this object with `key` set to `value`.
    func setting(_ key: String, _ value: JSONValue) -> JSONValue {
        guard case .object(var members) = self else { return self }
        if let i = members.firstIndex(where: { $0.key == key }) {
            members[i].value = value
        } else {
            members.append(JSONMember(key, value))
        }
        return .object(members)
    }
}
