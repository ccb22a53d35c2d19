import ArgumentParser
import BotConnector
import Engine
import Foundation
import HeraldConfig
import Logging
import Routing
import Store

/// `herald directory lookup`: what a directory recipient resolves to, for operators asking why someone did not
/// get a notification.
struct DirectoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "directory",
        abstract: "Look people and groups up in a tenant's directory as Herald's routes would.",
        subcommands: [Lookup.self]
    )

    struct Lookup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print, in one line, what an email, UPN or group resolves to (and whether from cache or Graph).",
            discussion: """
                Uses the configuration's bot credentials, Graph URL and store (the directory cache). Exits 0 when \
                the recipient resolves to someone a notification can reach, 1 when not (nobody, a disabled account, \
                an empty group), 2 when the directory could not be read.
                """)

        @Option(help: "The configuration file (YAML).")
        var config: String

        @Option(help: "An email address: the user's mail or one of their proxy addresses.")
        var email: String?

        @Option(help: "A user principal name.")
        var upn: String?

        @Option(help: "An Entra ID group id: its users, nested groups included, are counted.")
        var group: String?

        @Option(help: "The tenant whose directory is read.")
        var tenant: String

        @Flag(name: .customLong("no-cache"), help: "Ask Graph even when the directory cache has a fresh answer.")
        var noCache = false

        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            guard [email, upn, group].compactMap({ $0 }).count == 1 else {
                throw ValidationError("give exactly one of --email, --upn and --group")
            }
            guard !tenant.isEmpty else { throw ValidationError("--tenant must not be empty") }
        }

        func run() async throws {
            let configuration = try HeraldConfiguration.load(file: config)
            let logger = logging.makeLogger("herald.directory")
            let graph = WorkerSetup.graphClient(configuration.bot, logger: logger)
            let answer: Result<(String, Bool), any Error>
            do {
                answer = .success(
                    try await withStore(url: configuration.store.url, logger: logger) { store in
                        let resolver = DirectoryResolver(
                            graph: graph, store: store, cacheFor: configuration.directory.cacheFor,
                            notFoundCacheFor: configuration.directory.notFoundCacheFor,
                            perTenantPerSecond: configuration.directory.perTenantPerSecond, logger: logger)
                        if let group {
                            return try await Self.describe(group: group, tenant: tenant, resolver)
                        }
                        let name: Recipient.PersonName = email.map { .email($0) } ?? .upn(upn ?? "")
                        return try await Self.describe(name, tenant: tenant, useCache: !noCache, resolver)
                    })
            } catch {
                answer = .failure(error)
            }
            try? await graph.shutdown()
            switch answer {
            case .success((let line, let reachable)):
                print(line)
                if !reachable { throw ExitCode(1) }
            case .failure(let error as BotConnectorError):
                print("\(error.teamsCode): \(error.message)")
                throw ExitCode(2)
            case .failure(let error):
                throw error
            }
        }

        static func describe(
            _ name: Recipient.PersonName, tenant: String, useCache: Bool, _ resolver: DirectoryResolver
        ) async throws(BotConnectorError) -> (String, Bool) {
            let lookup = try await resolver.person(name, tenantId: tenant, useCache: useCache)
            let source =
                lookup.fromCache
                ? "from the directory cache (resolved \(RFC3339.format(lookup.resolvedAt)))" : "from Graph"
            let what: String
            switch name {
            case .email(let address): what = "email \(address)"
            case .upn(let upn): what = "upn \(upn)"
            }
            guard let user = lookup.user else {
                return ("\(what) in tenant \(tenant): nobody (RecipientNotFound), \(source)", false)
            }
            let state = user.accountEnabled ? "enabled" : "disabled (RecipientDisabled)"
            return ("\(what) in tenant \(tenant): aadObjectId \(user.id), \(state), \(source)", user.accountEnabled)
        }

        /// Reads every page, counting distinct users; nothing is kept but the ids seen.
        static func describe(
            group: String, tenant: String, _ resolver: DirectoryResolver
        ) async throws(BotConnectorError) -> (String, Bool) {
            var link: String?
            var pages = 0
            var enabled: Set<String> = []
            var disabled: Set<String> = []
            repeat {
                guard let page = try await resolver.groupPage(groupId: group, tenantId: tenant, nextLink: link) else {
                    return ("group \(group) in tenant \(tenant): no such group (GroupNotFound), from Graph", false)
                }
                pages += 1
                for user in page.users {
                    if user.accountEnabled { enabled.insert(user.id) } else { disabled.insert(user.id) }
                }
                link = page.nextLink
            } while link != nil && pages < 100_000
            let users = enabled.union(disabled).count
            return (
                "group \(group) in tenant \(tenant): \(users) users, \(enabled.count) enabled, "
                    + "\(disabled.subtracting(enabled).count) disabled, \(pages) \(pages == 1 ? "page" : "pages") from Graph",
                !enabled.isEmpty
            )
        }
    }
}
