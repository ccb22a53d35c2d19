import HeraldConfig

extension Router {
    /// The compiled routes of `configuration.routing.routesFile`, with the configured render limits; throws
    /// ``ConfigError`` listing every problem. What the workers route with and the gateway answers buttons with.
    public init(loading configuration: HeraldConfiguration) throws(ConfigError) {
        let limits = RenderLimits(configuration: configuration.routing)
        let (set, problems) = RouteSet.load(file: configuration.routesFilePath, limits: limits)
        guard let set, problems.isEmpty else { throw ConfigError(problems: problems) }
        self.init(routes: set.routes, limits: limits)
    }
}
