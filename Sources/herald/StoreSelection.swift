import ArgumentParser
import Foundation
import HeraldConfig
import Logging
import Store

/// `--config FILE` or `--store URL` (or `HERALD_STORE_URL`): which store a command works on.
struct StoreSelection: ParsableArguments {
    @Option(name: .long, help: "The configuration file (YAML); its store.url is used.")
    var config: String?

    @Option(
        name: .customLong("store"),
        help: "The store URL: sqlite:///abs/path.db or postgres://user:pass@host:port/db (overrides --config).")
    var storeURL: String?

    @OptionGroup var logging: LoggingOptions

    /// `--store`, else `--config`'s `store.url`, else `HERALD_STORE_URL`.
    func url() throws -> String {
        if let storeURL { return storeURL }
        let environment = ProcessInfo.processInfo.environment
        if let config { return try HeraldConfiguration.load(file: config, environment: environment).store.url }
        if let url = environment["HERALD_STORE_URL"], !url.isEmpty { return url }
        throw ValidationError("name the store with --store URL, --config FILE or HERALD_STORE_URL")
    }

    /// Opens and migrates the store, runs `body`, closes it.
    func withStore<T: Sendable>(
        _ label: String, _ body: @Sendable (any HeraldStore) async throws -> T
    ) async throws -> T {
        let url = try url()
        let logger = logging.makeLogger(label)
        return try await Store.withStore(url: url, logger: logger, body)
    }
}

/// A command failure, printed as one line.
struct StoreCommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Prints rows as aligned columns.
enum Table {
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

extension JSONEncoder {
    /// Sorted keys and ISO 8601 dates, for `--json` output.
    static var cli: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}
