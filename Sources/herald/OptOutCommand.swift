import ArgumentParser
import Foundation
import Store

/// `herald optout add|remove|list`.
struct OptOutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optout",
        abstract: "Manage recipients who opted out of notifications.",
        subcommands: [Add.self, Remove.self, List.self]
    )

    /// Who: `--tenant` and one of `--user` / `--aad-object-id`, optionally `--route`.
    struct Who: ParsableArguments {
        @Option(help: "The recipient's tenant id.")
        var tenant: String

        @Option(help: "The recipient's Teams user id (29:...).")
        var user: String?

        @Option(name: .customLong("aad-object-id"), help: "The recipient's Entra (AAD) object id.")
        var aadObjectId: String?

        @Option(help: "Only this route (default: every route).")
        var route: String?

        func validate() throws {
            guard (user == nil) != (aadObjectId == nil) else {
                throw ValidationError("give exactly one of --user and --aad-object-id")
            }
            guard !tenant.isEmpty else { throw ValidationError("--tenant must not be empty") }
        }

        var optOut: OptOut {
            OptOut(tenantId: tenant, subject: user.map { .userId($0) } ?? .aadObjectId(aadObjectId ?? ""), route: route)
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Opt a recipient out (of every route, or of one).")
        @OptionGroup var who: Who
        @OptionGroup var store: StoreSelection

        func run() async throws {
            let optOut = who.optOut
            _ = try await store.withStore("herald.optout") { try await $0.addOptOut(optOut) }
            print("opted out \(OptOutCommand.describe(optOut))")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an opt-out.")
        @OptionGroup var who: Who
        @OptionGroup var store: StoreSelection

        func run() async throws {
            let optOut = who.optOut
            guard try await store.withStore("herald.optout", { try await $0.removeOptOut(optOut) }) else {
                throw StoreCommandError("no opt-out for \(OptOutCommand.describe(optOut))")
            }
            print("removed opt-out of \(OptOutCommand.describe(optOut))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List opt-outs.")

        @Option(help: "Only this tenant.")
        var tenant: String?

        @Flag(help: "Print JSON Lines instead of a table.")
        var json = false

        @OptionGroup var store: StoreSelection

        func run() async throws {
            let tenant = self.tenant
            let optOuts = try await store.withStore("herald.optout") { try await $0.listOptOuts(tenantId: tenant) }
            if json {
                for o in optOuts {
                    let object: [String: String] = [
                        "tenantId": o.tenantId, "route": o.route ?? "*",
                        o.subject.isUserId ? "userId" : "aadObjectId": o.subject.text,
                        "createdAt": ISO8601DateFormatter().string(from: o.createdAt),
                    ]
                    print(
                        String(
                            decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
                            as: UTF8.self))
                }
                return
            }
            print(
                Table.render(
                    ["TENANT", "USER", "AAD OBJECT ID", "ROUTE"],
                    optOuts.map {
                        [
                            $0.tenantId, $0.subject.isUserId ? $0.subject.text : "",
                            $0.subject.isUserId ? "" : $0.subject.text, $0.route ?? "*",
                        ]
                    }))
        }
    }

    static func describe(_ o: OptOut) -> String {
        "\(o.subject.isUserId ? "user" : "aadObjectId") \(o.subject.text) in tenant \(o.tenantId)"
            + (o.route.map { " for route \($0)" } ?? " for every route")
    }
}

extension OptOut.Subject {
    var isUserId: Bool {
        if case .userId = self { return true }
        return false
    }

    var text: String {
        switch self {
        case .userId(let id), .aadObjectId(let id): id
        }
    }
}
