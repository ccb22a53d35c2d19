import HeraldConfig
import HeraldJSON

/// What `herald validate` checks: the configuration, the routes file it names and every template, offline.
public enum Validator {
    /// Every problem found, in file order; empty means valid.
    public static func validate(configFile: String, environment: [String: String]) -> [ConfigProblem] {
        let (configuration, configProblems) = HeraldConfiguration.check(file: configFile, environment: environment)
        var problems = configProblems
        guard let configuration else { return problems }
        for (key, value) in [
            ("routing.events.typeField", configuration.routing.events.typeField),
            ("routing.events.idField", configuration.routing.events.idField),
            ("routing.events.sourceField", configuration.routing.events.sourceField),
            ("routing.events.timeField", configuration.routing.events.timeField),
        ] where !value.isEmpty && JSONPath(parsing: value) == nil {
            problems.append(ConfigProblem(file: configFile, path: key, message: "\"\(value)\" is not a JSON path"))
        }
        guard !configuration.routing.routesFile.isEmpty else { return problems }
        let (_, routeProblems) = RouteSet.load(
            file: configuration.routesFilePath, limits: RenderLimits(configuration: configuration.routing))
        return problems + routeProblems
    }
}
