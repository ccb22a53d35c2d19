import Foundation
import HeraldConfig
import Yams

/// The routes file compiled once at start-up, with every problem found while reading it.
public struct RouteSet: Sendable {
    public var routes: [Route]

    public init(routes: [Route]) { self.routes = routes }

    /// Reads `file` (and the card templates it names, relative to its folder). Returns what compiled and every
    /// problem, each with file, line and route; a non-empty problem list means the set must not be used.
    public static func load(file: String, limits: RenderLimits = RenderLimits()) -> (RouteSet?, [ConfigProblem]) {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8)
        else {
            return (nil, [ConfigProblem(file: file, path: "", message: "cannot read the routes file")])
        }
        let folder = (file as NSString).deletingLastPathComponent
        return parse(
            yaml: text, file: file,
            readTemplate: { path in
                let full = path.hasPrefix("/") ? path : (folder.isEmpty ? path : folder + "/" + path)
                return (full, FileManager.default.contents(atPath: full).map { [UInt8]($0) })
            })
    }

    /// Compiles routes YAML. `readTemplate` maps a `card:` path to the file's name and bytes (nil: unreadable).
    public static func parse(
        yaml: String, file: String, readTemplate: @escaping (String) -> (name: String, bytes: [UInt8]?)
    ) -> (RouteSet?, [ConfigProblem]) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            return (nil, [YAMLProblem.problem(from: error, file: file)])
        }
        var loader = RouteLoader(file: file, readTemplate: readTemplate)
        let routes = loader.load(root)
        return (RouteSet(routes: routes), loader.problems)
    }
}
