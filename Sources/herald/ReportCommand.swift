import ArgumentParser
import Foundation
import Store

/// `herald report blocked`.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Reports on stored state.",
        subcommands: [Blocked.self]
    )

    struct Blocked: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recipients who blocked or uninstalled the bot (references marked blocked by Teams' 403s).")

        @Flag(help: "Print JSON Lines instead of a table.")
        var json = false

        @OptionGroup var store: StoreSelection

        func run() async throws {
            let blocked = try await store.withStore("herald.report") {
                try await ReferencesCommand.all($0, blockedOnly: true, limit: nil)
            }
            if json {
                let encoder = JSONEncoder.cli
                for reference in blocked { print(String(decoding: try encoder.encode(reference), as: UTF8.self)) }
                return
            }
            let formatter = ISO8601DateFormatter()
            print(
                Table.render(
                    ["KEY", "TENANT", "USER", "BLOCKED AT", "CODE"],
                    blocked.map {
                        [
                            $0.key, $0.tenantId, $0.aadObjectId ?? $0.userId ?? $0.conversationId,
                            $0.blockedAt.map(formatter.string(from:)) ?? "", $0.blockCode ?? "",
                        ]
                    }))
            print("\(blocked.count) blocked recipient(s)")
        }
    }
}
