import ArgumentParser
import Foundation
import Store

/// `herald references import|list|forget`.
struct ReferencesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "references",
        abstract: "Manage stored Teams conversation references.",
        subcommands: [Import.self, List.self, Forget.self]
    )

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import conversation references from a JSON Lines file.",
            discussion: """
                Each line is a Bot Framework ConversationReference as the SDKs serialize it, or \
                {"key": K, "reference": {...}}. Without a key, personal chats are keyed \
                user:aad:<tenant>/<aadObjectId> (or user:id:<tenant>/<userId>), others conversation:<id>. \
                Every line is checked first: if any is bad, each problem is printed and nothing is imported.
                """
        )

        @Argument(help: "The JSON Lines file ('-' for standard input).")
        var file: String

        @OptionGroup var store: StoreSelection

        func run() async throws {
            let data: Data?
            if file == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                data = FileManager.default.contents(atPath: file)
            }
            guard let data else { throw StoreCommandError("cannot read \(file)") }
            var references: [ConversationReference] = []
            var problems: [String] = []
            for (index, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                .enumerated()
            {
                let text = String(decoding: line, as: UTF8.self)
                guard !text.allSatisfy(\.isWhitespace) else { continue }
                do {
                    references.append(try BotFrameworkReference.parse(text, line: index + 1))
                } catch {
                    problems.append("\(file):\(error)")
                }
            }
            guard problems.isEmpty else {
                for problem in problems.prefix(20) { FileHandle.standardError.write(Data((problem + "\n").utf8)) }
                throw StoreCommandError("\(problems.count) bad line(s) in \(file); nothing imported")
            }
            let batches = stride(from: 0, to: references.count, by: 500).map {
                Array(references[$0..<min($0 + 500, references.count)])
            }
            try await store.withStore("herald.references") { store in
                for batch in batches { try await store.upsertReferences(batch) }
            }
            print("imported \(references.count) conversation reference(s)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List stored conversation references by key.")

        @Flag(help: "Print JSON Lines (one reference per line) instead of a table.")
        var json = false

        @Option(help: "Print at most this many.")
        var limit: Int?

        @OptionGroup var store: StoreSelection

        func validate() throws {
            if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            let references = try await store.withStore("herald.references") { store in
                try await ReferencesCommand.all(store, blockedOnly: false, limit: limit)
            }
            if json {
                let encoder = JSONEncoder.cli
                for reference in references { print(String(decoding: try encoder.encode(reference), as: UTF8.self)) }
                return
            }
            print(
                Table.render(
                    ["KEY", "SCOPE", "TENANT", "CONVERSATION", "SERVICE URL", "BLOCKED"],
                    references.map {
                        [$0.key, $0.scope.rawValue, $0.tenantId, $0.conversationId, $0.serviceUrl, $0.blockCode ?? ""]
                    }))
        }
    }

    struct Forget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete stored conversation references by key.")

        @Argument(help: "The keys to forget.")
        var keys: [String]

        @OptionGroup var store: StoreSelection

        func validate() throws {
            guard !keys.isEmpty else { throw ValidationError("name at least one key") }
        }

        func run() async throws {
            let keys = self.keys
            let forgotten = try await store.withStore("herald.references") { try await $0.forgetReferences(keys: keys) }
            print("forgot \(forgotten) conversation reference(s)")
            guard forgotten == keys.count else {
                throw StoreCommandError("\(keys.count - forgotten) key(s) were not stored")
            }
        }
    }

    /// Every reference (or every blocked one), paging through the store.
    static func all(_ store: any HeraldStore, blockedOnly: Bool, limit: Int?) async throws -> [ConversationReference] {
        var all: [ConversationReference] = []
        var cursor: String?
        repeat {
            let page = try await store.listReferences(after: cursor, limit: 500, blockedOnly: blockedOnly)
            all += page.items
            cursor = page.nextCursor
        } while cursor != nil && all.count < (limit ?? .max)
        return limit.map { Array(all.prefix($0)) } ?? all
    }
}
