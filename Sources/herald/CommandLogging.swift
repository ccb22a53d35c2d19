import ArgumentParser
import HeraldConfig
import Logging
import Synchronization

/// `--log-level` for commands that log, with one stderr handler for the whole process.
struct LoggingOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .warning

    /// How records are written; `herald run` takes it from `log.format`. Not a command-line option.
    var format: HeraldConfiguration.Log.Format = .text

    enum CodingKeys: CodingKey {
        case logLevel
    }

    func makeLogger(_ label: String) -> Logger {
        LoggingOptions.bootstrap(format)
        var logger = Logger(label: label)
        logger.logLevel = logLevel
        return logger
    }

    /// The first call chooses the process's handler; later calls change nothing (swift-log allows one bootstrap).
    private static func bootstrap(_ format: HeraldConfiguration.Log.Format) {
        let first = bootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        switch format {
        case .text: LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        case .json: LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
        }
    }

    private static let bootstrapped = Mutex(false)
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
