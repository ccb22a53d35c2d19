import ChildProcess
import Foundation
import Testing

/// Drives the real `herald validate` binary: exit status, stdout and stderr as an operator sees them.
@Suite struct ValidateCommandTests {
    /// The `herald` executable built next to the test bundle (`swift build --build-tests` builds both).
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("herald")
    }

    func run(_ arguments: [String]) async throws -> ChildProcess.Output {
        guard FileManager.default.isExecutableFile(atPath: Self.binary.path) else {
            throw Fixtures.FixtureError(message: "\(Self.binary.path) is missing: run swift build --build-tests")
        }
        return try await ChildProcess.run(Self.binary, arguments)
    }

    @Test func examplesPass() async throws {
        let result = try await run([
            "validate", "--config", Fixtures.examples.appendingPathComponent("herald.yaml").path,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("are valid"))
        #expect(result.stderr.isEmpty)
    }

    /// `allowedServiceHosts: ["127.0.0.1"]` allows https only: an http default service URL would fail every
    /// delivery that needs it.
    @Test func aDefaultServiceUrlTheAllowListRefusesIsAProblemWithItsFix() async throws {
        func config(_ allowed: String) -> String {
            "kafka:\n  brokers: embedded\n  eventsTopics: [n]\nbot:\n  appId: a\n"
                + "  defaultServiceUrl: \"http://127.0.0.1:3978/teams/\"\n  allowedServiceHosts: [\(allowed)]\n"
                + "store: { url: \"sqlite:///x\" }\nrouting: { routesFile: routes.yaml }\n"
        }
        let routes =
            "routes:\n  - name: r\n    match: { type: t }\n    to: [ { reference: x } ]\n    message: { text: hi }\n"
        let refused = try Fixtures.folder(["herald.yaml": config("\"127.0.0.1\""), "routes.yaml": routes])
        defer { try? FileManager.default.removeItem(at: refused) }
        let result = try await run(["validate", "--config", refused.appendingPathComponent("herald.yaml").path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("bot.defaultServiceUrl"), "\(result.stderr)")
        #expect(result.stderr.contains("add \"http://127.0.0.1:3978\" to bot.allowedServiceHosts"), "\(result.stderr)")
        let allowed = try Fixtures.folder(["herald.yaml": config("\"http://127.0.0.1:3978\""), "routes.yaml": routes])
        defer { try? FileManager.default.removeItem(at: allowed) }
        let fixed = try await run(["validate", "--config", allowed.appendingPathComponent("herald.yaml").path])
        #expect(fixed.status == 0, "\(fixed.stderr)")
    }

    /// A literal serviceUrl on a route's conversation recipient is known before any event: the same check, with
    /// the route and recipient named; a templated one can only be checked per delivery.
    @Test func aRouteServiceUrlTheAllowListRefusesIsAProblemWithItsFix() async throws {
        let config =
            "kafka:\n  brokers: embedded\n  eventsTopics: [n]\nbot:\n  appId: a\n"
            + "  allowedServiceHosts: [\"smba.example.net\"]\n"
            + "store: { url: \"sqlite:///x\" }\nrouting: { routesFile: routes.yaml }\n"
        func routes(_ serviceUrl: String) -> String {
            "routes:\n  - name: ops\n    match: { type: t }\n    to:\n      - reference: x\n"
                + "      - conversation: { id: \"19:a@thread.tacv2\", serviceUrl: \"\(serviceUrl)\" }\n"
                + "    message: { text: hi }\n"
        }
        let refused = try Fixtures.folder([
            "herald.yaml": config, "routes.yaml": routes("https://smba.other.net:8443/"),
        ])
        defer { try? FileManager.default.removeItem(at: refused) }
        let result = try await run(["validate", "--config", refused.appendingPathComponent("herald.yaml").path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("route 'ops' to[1].conversation.serviceUrl"), "\(result.stderr)")
        #expect(result.stderr.contains("add \"smba.other.net:8443\" to bot.allowedServiceHosts"), "\(result.stderr)")
        for accepted in ["https://smba.example.net/emea/", "${data.serviceUrl}"] {
            let folder = try Fixtures.folder(["herald.yaml": config, "routes.yaml": routes(accepted)])
            defer { try? FileManager.default.removeItem(at: folder) }
            let fixed = try await run(["validate", "--config", folder.appendingPathComponent("herald.yaml").path])
            #expect(fixed.status == 0, "\(accepted): \(fixed.stderr)")
        }
    }

    @Test func problemsGoToStderrOneLineEachWithNonZeroExit() async throws {
        let dir = try Fixtures.folder([
            "herald.yaml":
                "kafka:\n  brokers: embedded\n  eventsTopics: [n]\nbot: { appId: a }\nstore: { url: \"sqlite:///x\" }\n"
                + "routing: { routesFile: routes.yaml }\ndelivery: { giveUpAfter: often }\n",
            "routes.yaml":
                "routes:\n  - name: r\n    match: { type: \"[\" }\n    to: [ { reference: x } ]\n    message: { text: hi }\n",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try await run(["validate", "--config", dir.appendingPathComponent("herald.yaml").path])
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 3, "\(result.stderr)")
        #expect(
            lines[0].hasSuffix(
                "herald.yaml:7:26: delivery.giveUpAfter: \"often\" is not a duration (use e.g. 500ms, 30s, 5m, 24h)"))
        #expect(lines[1].contains("routes.yaml:3:20: route 'r' match.type: bad glob"))
        #expect(lines[2] == "herald: 2 problem(s) found")
        #expect(result.stdout.isEmpty)
    }

    @Test func aButtonTheCardsVersionCannotShowIsReportedWithItsPath() async throws {
        let dir = try Fixtures.folder([
            "herald.yaml":
                "kafka:\n  brokers: embedded\n  eventsTopics: [n]\nbot: { appId: a }\nstore: { url: \"sqlite:///x\" }\n"
                + "routing: { routesFile: routes.yaml }\n",
            "routes.yaml":
                "routes:\n  - name: r\n    match: { type: t }\n    to: [ { reference: x } ]\n"
                + "    message: { card: templates/old.json }\n    optOut: true\n",
            "templates/old.json":
                #"{"type":"AdaptiveCard","version":"1.3","body":[{"type":"ActionSet","actions":["#
                + #"{"type":"Action.Submit","title":"ok"},{"type":"Action.Execute","verb":"approve"}]}]}"#,
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try await run(["validate", "--config", dir.appendingPathComponent("herald.yaml").path])
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 2, "\(result.stderr)")
        #expect(
            lines.first?.hasSuffix(
                "templates/old.json: $.body[0].actions[1]: Action.Execute needs card version 1.4 or higher") == true,
            "\(result.stderr)")
        #expect(lines.last == "herald: 1 problem(s) found")
    }

    @Test func aMissingFileIsOneClearLine() async throws {
        let result = try await run(["validate", "--config", "/nonexistent/herald.yaml"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("/nonexistent/herald.yaml: cannot read the configuration file\n"))
    }
}
