import ArgumentParser
import Foundation
import Routing

/// `herald validate --config FILE`: checks configuration, routes and templates without any network call.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check the configuration, routes and templates; print every problem; exit non-zero if any.")

    @Option(name: .long, help: "The configuration file (YAML).")
    var config: String

    func run() throws {
        let problems = Validator.validate(configFile: config, environment: ProcessInfo.processInfo.environment)
        for problem in problems {
            FileHandle.standardError.write(Data((problem.description + "\n").utf8))
        }
        guard problems.isEmpty else {
            FileHandle.standardError.write(Data("herald: \(problems.count) problem(s) found\n".utf8))
            throw ExitCode(1)
        }
        print("\(config): configuration, routes and templates are valid")
    }
}
