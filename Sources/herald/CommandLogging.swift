import ArgumentParser
import Logging

/// `--log-level` for commands that log, with one stderr handler for the whole process.
struct LoggingOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .warning

    func makeLogger(_ label: String) -> Logger {
        LoggingOptions.bootstrapOnce
        var logger = Logger(label: label)
        logger.logLevel = logLevel
        return logger
    }

    private static let bootstrapOnce: Void = {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
    }()
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
