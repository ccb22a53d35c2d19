import HeraldConfig
import Yams

/// Reads `routes.yaml` node by node, so each problem carries its line, column and route.
struct RouteLoader {
    let file: String
    let readTemplate: (String) -> (name: String, bytes: [UInt8]?)
    var problems: [ConfigProblem] = []
    var templateCache: [String: CardTemplate?] = [:]
    /// Template files whose paths were checked, with the roots they were checked against.
    var checkedTemplatePaths: Set<[String]> = []

    static let routeKeys = [
        "name", "match", "catchAll", "to", "message", "notificationKey", "action", "quietHours", "expiresAfter",
        "deliverAt", "onUncertain", "optOut", "actions", "locale", "digest",
    ]

    init(file: String, readTemplate: @escaping (String) -> (name: String, bytes: [UInt8]?)) {
        self.file = file
        self.readTemplate = readTemplate
    }

    mutating func problem(_ node: Node?, _ path: String, _ message: String, file: String? = nil) {
        problems.append(
            ConfigProblem(
                file: file ?? self.file, line: node?.mark?.line, column: node?.mark?.column, path: path,
                message: message))
    }

    mutating func load(_ root: Node?) -> [Route] {
        guard let mapping = root?.mapping, let list = mapping["routes"] else {
            problem(root, "", "the routes file must be a map with a \"routes\" list")
            return []
        }
        for (key, _) in mapping where key.string != "routes" {
            problem(key, key.string ?? "?", "unknown key (the file has one key, routes)")
        }
        guard let sequence = list.sequence else {
            problem(list, "routes", "must be a list of routes")
            return []
        }
        var routes: [Route] = []
        var names: Set<String> = []
        for (index, node) in sequence.enumerated() {
            let label = node.mapping?["name"]?.string.map { "route '\($0)'" } ?? "routes[\(index)]"
            guard let route = loadRoute(node, label: label) else { continue }
            if !names.insert(route.name).inserted {
                problem(node.mapping?["name"], label, "the route name is used twice")
            }
            routes.append(route)
        }
        if sequence.isEmpty { problem(list, "routes", "no routes: every event would be unroutable") }
        return routes
    }

    mutating func unknownKeys(_ mapping: Node.Mapping, allowed: [String], label: String) {
        for (key, _) in mapping {
            let k = key.string ?? "?"
            if !allowed.contains(k) {
                problem(key, label, "unknown key '\(k)' (allowed: \(allowed.joined(separator: ", ")))")
            }
        }
    }

    /// A text template whose paths start at `roots` (the event's, unless it answers a button).
    mutating func text(
        _ node: Node?, _ label: String, roots: Set<String> = NotificationEvent.rootNames
    ) -> TextTemplate? {
        guard let node else { return nil }
        guard case .scalar(let s) = node else {
            problem(node, label, "expected a string")
            return nil
        }
        do {
            let template = try TextTemplate(s.string)
            checkPaths(
                template.parts.compactMap { if case .expression(let e) = $0 { e } else { nil } }, node, label,
                roots: roots)
            return template
        } catch {
            problem(node, label, error.description)
            return nil
        }
    }

    /// Paths outside `$data` must start at one of `roots`; anything else can never resolve.
    mutating func checkPaths(
        _ expressions: [Expression], _ node: Node?, _ label: String, file: String? = nil,
        roots: Set<String> = NotificationEvent.rootNames
    ) {
        for expression in expressions {
            for (root, path) in expression.paths {
                switch root {
                case .implicit:
                    if let path, case .key(let first) = path.segments.first,
                        !roots.contains(first)
                    {
                        problem(
                            node, label,
                            "path '\(path)' can never resolve: paths start with "
                                + roots.sorted().joined(separator: ", "), file: file)
                    }
                case .current, .index:
                    problem(node, label, "$data and $index are only meaningful inside a $data repetition", file: file)
                case .root: break
                }
            }
        }
    }
}
