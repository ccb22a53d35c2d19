import ArgumentParser
import BotConnector
import Foundation
import HeraldConfig
import Routing

/// `herald validate --config FILE`: checks configuration, routes and templates without any network call.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check the configuration, routes and templates; print every problem; exit non-zero if any.")

    @Option(name: .long, help: "The configuration file (YAML).")
    var config: String

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let problems =
            Validator.validate(configFile: config, environment: environment)
            + Self.serviceHostProblems(configFile: config, environment: environment)
        for problem in problems {
            FileHandle.standardError.write(Data((problem.description + "\n").utf8))
        }
        guard problems.isEmpty else {
            FileHandle.standardError.write(Data("herald: \(problems.count) problem(s) found\n".utf8))
            throw ExitCode(1)
        }
        print("\(config): configuration, routes and templates are valid")
    }

    /// A `bot.defaultServiceUrl`, or a literal `serviceUrl` on a route's conversation recipient, that the
    /// allow-list refuses would make every delivery that uses it fail (`ServiceUrlNotAllowed`): said here, with
    /// the entry that would allow it.
    static func serviceHostProblems(configFile: String, environment: [String: String]) -> [ConfigProblem] {
        let (configuration, _) = HeraldConfiguration.check(file: configFile, environment: environment)
        guard let configuration else { return [] }
        let bot = configuration.bot
        let allowList = ServiceHostAllowList(
            cloud: Cloud(rawValue: bot.cloud.rawValue) ?? .public, extras: bot.allowedServiceHosts)
        var problems: [ConfigProblem] = []
        if let problem = Self.refused(
            bot.defaultServiceUrl, by: allowList, file: configFile, path: "bot.defaultServiceUrl")
        {
            problems.append(problem)
        }
        guard !configuration.routing.routesFile.isEmpty else { return problems }
        let (routes, _) = RouteSet.load(file: configuration.routesFilePath)
        for route in routes?.routes ?? [] {
            for (index, recipient) in route.recipients.enumerated() {
                // Only a literal URL is known before an event arrives; a templated one is checked per delivery.
                guard case .conversation(_, let serviceUrl?, _) = recipient, serviceUrl.parts.count == 1,
                    case .literal(let literal) = serviceUrl.parts[0],
                    let problem = Self.refused(
                        literal, by: allowList, file: configuration.routesFilePath,
                        path: "route '\(route.name)' to[\(index)].conversation.serviceUrl")
                else { continue }
                problems.append(problem)
            }
        }
        return problems
    }

    private static func refused(
        _ text: String, by allowList: ServiceHostAllowList, file: String, path: String
    ) -> ConfigProblem? {
        guard !text.isEmpty, let url = try? ServiceUrl(text), !allowList.allows(url) else { return nil }
        let fix =
            url.scheme == "http"
            ? "a plain-http host is allowed only with its scheme and port: add \"\(url.origin)\" to bot.allowedServiceHosts"
            : "add \"\(url.port == 443 ? url.host : "\(url.host):\(url.port)")\" to bot.allowedServiceHosts"
        return ConfigProblem(
            file: file, path: path,
            message: "\"\(text)\" is not an allowed service host, so every delivery to it would fail "
                + "(ServiceUrlNotAllowed); \(fix)")
    }
}
