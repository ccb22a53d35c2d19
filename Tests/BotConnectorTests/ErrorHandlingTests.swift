import BotConnector
import TeamsEmulator
import Testing

@Suite("Teams errors, classified as Teams documents them")
struct ErrorHandlingTests {
    @Test("the 8th send within one second to one conversation is throttled; after the window it goes through")
    func eighthSendIsThrottled() async throws {
        let clock = ManualClock()
        try await withEmulator(.test(limits: .teams), now: clock.now) { emulator in
            try await withClient(for: emulator) { client in
                let conversationId = try await chat(client)
                for index in 1...7 {
                    _ = try await client.sendActivity(
                        serviceUrl: nil, conversationId: conversationId, .text("\(index)"))
                }
                let eighth = await botConnectorError {
                    _ = try await client.sendActivity(serviceUrl: nil, conversationId: conversationId, .text("8"))
                }
                #expect(eighth?.code == .throttled)
                #expect(eighth?.httpStatus == 429)
                #expect(eighth?.isRetryable == true)
                #expect(eighth?.recipientBlocked == false)
                // Another conversation of the same tenant is not held back by this one.
                let other = try await chat(client, "29:1other")
                _ = try await client.sendActivity(serviceUrl: nil, conversationId: other, .text("elsewhere"))

                clock.advance(by: .seconds(2))
                _ = try await client.sendActivity(serviceUrl: nil, conversationId: conversationId, .text("8 again"))
                #expect(emulator.conversation(conversationId)?.activities.count == 8)
                #expect(emulator.stats().throttled == 1)
            }
        }
    }

    @Test("429 carries Retry-After when Teams sends it, and none when it does not")
    func retryAfter() async throws {
        let clock = ManualClock()
        var configuration = EmulatorConfiguration.test(limits: .teams)
        configuration.retryAfter = .always
        try await withEmulator(configuration, now: clock.now) { emulator in
            try await withClient(for: emulator) { client in
                let conversationId = try await chat(client)
                for _ in 1...7 {
                    _ = try await client.sendActivity(serviceUrl: nil, conversationId: conversationId, .text("x"))
                }
                let withHeader = await botConnectorError {
                    _ = try await client.sendActivity(serviceUrl: nil, conversationId: conversationId, .text("x"))
                }
                #expect(withHeader?.code == .throttled)
                #expect(withHeader?.retryAfter == .seconds(1))

                emulator.updateConfiguration { $0.retryAfter = .never }
                let without = await botConnectorError {
                    _ = try await client.sendActivity(serviceUrl: nil, conversationId: conversationId, .text("x"))
                }
                #expect(without?.code == .throttled)
                #expect(without?.retryAfter == nil)
            }
        }
    }

    @Test(
        "a recipient who blocked the bot is reported blocked and not retryable, in both 403 body shapes",
        arguments: [
            (EmulatorConfiguration.BlockShape.messageWritesBlocked, BotConnectorError.Code.messageWritesBlocked),
            (.conversationBlockedByUser, .conversationBlockedByUser),
        ]
    )
    func blockedRecipient(shape: EmulatorConfiguration.BlockShape, expected: BotConnectorError.Code) async throws {
        var configuration = EmulatorConfiguration.test()
        configuration.blocked["29:1blocker"] = shape
        try await withEmulator(configuration) { emulator in
            try await withClient(for: emulator) { client in
                let conversationId = try await chat(client, "29:1blocker")
                let error = await botConnectorError {
                    _ = try await client.sendActivity(serviceUrl: nil, conversationId: conversationId, .text("hi"))
                }
                #expect(error?.code == expected)
                #expect(error?.teamsCode == expected.teamsName)
                #expect(error?.httpStatus == 403)
                #expect(error?.recipientBlocked == true)
                #expect(error?.isRetryable == false)
                #expect(emulator.conversation(conversationId)?.activities.isEmpty == true)
            }
        }
    }

    @Test("a 403 with no subCode is forbidden but does not mark the recipient blocked")
    func forbiddenWithoutSubCode() async throws {
        var configuration = EmulatorConfiguration.test()
        configuration.blocked["29:1odd"] = .noSubCode
        try await withEmulator(configuration) { emulator in
            try await withClient(for: emulator) { client in
                let conversationId = try await chat(client, "29:1odd")
                let error = await botConnectorError {
                    _ = try await client.sendActivity(serviceUrl: nil, conversationId: conversationId, .text("hi"))
                }
                #expect(error?.code == .forbidden)
                #expect(error?.recipientBlocked == false)
                #expect(error?.isRetryable == false)
            }
        }
    }

    @Test("a user without the bot installed gets ForbiddenOperationException when the chat is created")
    func notInstalled() async throws {
        var configuration = EmulatorConfiguration.test()
        configuration.notInstalled = ["29:1stranger"]
        try await withEmulator(configuration) { emulator in
            try await withClient(for: emulator) { client in
                let error = await botConnectorError { _ = try await chat(client, "29:1stranger") }
                #expect(error?.code == .forbiddenOperation)
                #expect(error?.teamsCode == "ForbiddenOperationException")
                #expect(error?.recipientBlocked == true)
            }
        }
    }

    @Test(
        "injected 412, 502, 503 and 504 are retryable; dropped connections are retryable connection errors",
        arguments: [
            ("412", BotConnectorError.Code.preconditionFailed),
            ("502", .badGateway), ("503", .serviceUnavailable), ("504", .gatewayTimeout), ("drop", .connection),
        ]
    )
    func injectedFaults(fault: String, expected: BotConnectorError.Code) async throws {
        try await withEmulator { emulator in
            try await withClient(for: emulator) { client in
                let conversationId = try await chat(client)
                emulator.updateConfiguration { configuration in
                    switch fault {
                    case "412": configuration.faults.preconditionFailed = 1
                    case "502": configuration.faults.badGateway = 1
                    case "503": configuration.faults.serviceUnavailable = 1
                    case "504": configuration.faults.gatewayTimeout = 1
                    default: configuration.faults.dropConnection = 1
                    }
                }
                let error = await botConnectorError {
                    _ = try await client.sendActivity(serviceUrl: nil, conversationId: conversationId, .text("hi"))
                }
                #expect(error?.code == expected)
                #expect(error?.isRetryable == true)
                emulator.updateConfiguration { $0.faults = .init() }
                _ = try await client.sendActivity(serviceUrl: nil, conversationId: conversationId, .text("recovered"))
            }
        }
    }

    @Test("an allowed host that refuses connections is a retryable connection error")
    func connectionRefused() async throws {
        // Held, not closed and reopened: a port given back to the kernel can be handed to a parallel test's emulator.
        let refusing = try RefusingPort()
        let port = refusing.port
        try await withEmulator { emulator in
            try await withClient(
                for: emulator,
                configure: {
                    $0.allowedServiceHosts.append("http://127.0.0.1:\(port)")
                    $0.connectTimeout = .milliseconds(300)
                }
            ) {
                client in
                let error = await botConnectorError {
                    _ = try await client.sendActivity(
                        serviceUrl: "http://127.0.0.1:\(port)/teams/", conversationId: "a:1x", .text("hi"))
                }
                #expect(error?.code == .connection)
                #expect(error?.isRetryable == true)
                #expect(error?.httpStatus == nil)
            }
        }
        withExtendedLifetime(refusing) {}
    }

    @Test("a call that takes longer than the timeout fails as a retryable timeout")
    func timeout() async throws {
        try await withEmulator { emulator in
            // Generous against a loaded machine: the set-up calls must finish within the timeout too.
            try await withClient(for: emulator, configure: { $0.requestTimeout = .seconds(1) }) { client in
                let conversationId = try await chat(client)
                emulator.updateConfiguration { $0.latency = .seconds(3) }
                let error = await botConnectorError {
                    _ = try await client.sendActivity(serviceUrl: nil, conversationId: conversationId, .text("slow"))
                }
                #expect(error?.code == .timeout)
                #expect(error?.isRetryable == true)
                emulator.updateConfiguration { $0.latency = .zero }
            }
        }
    }

    @Test("activities over 100 KB are refused before sending; the emulator answers 413 to bigger bodies")
    func messageTooLarge() async throws {
        try await withEmulator { emulator in
            let big = String(repeating: "x", count: 101 * 1024)
            try await withClient(for: emulator) { client in
                let conversationId = try await chat(client)
                let before = emulator.stats().apiRequests
                let refused = await botConnectorError {
                    _ = try await client.sendActivity(serviceUrl: nil, conversationId: conversationId, .text(big))
                }
                #expect(refused?.code == .messageTooLarge)
                #expect(refused?.httpStatus == nil)
                #expect(refused?.isRetryable == false)
                #expect(emulator.stats().apiRequests == before)
            }
            try await withClient(for: emulator, configure: { $0.maxActivityBytes = 1 << 20 }) { client in
                let conversationId = try await chat(client)
                let rejected = await botConnectorError {
                    _ = try await client.sendActivity(serviceUrl: nil, conversationId: conversationId, .text(big))
                }
                #expect(rejected?.code == .messageTooLarge)
                #expect(rejected?.httpStatus == 413)
                #expect(rejected?.teamsCode == "MessageSizeTooBig")
            }
        }
    }

    @Test("the client and the emulator count a message as Teams does: UTF-16, base64 images left out")
    func sizeCountedAsTeamsDoes() async throws {
        try await withEmulator { emulator in
            try await withClient(for: emulator) { client in
                let conversationId = try await chat(client)
                let sent = emulator.conversation(conversationId)?.activities.count ?? 0
                let before = emulator.stats().apiRequests
                // 60 KB of ASCII and 30 K emoji (120 KB of UTF-8) are both about 120 KB as Teams counts them.
                for text in [String(repeating: "x", count: 60 * 1024), String(repeating: "🎉", count: 30 * 1024)] {
                    let refused = await botConnectorError {
                        _ = try await client.sendActivity(serviceUrl: nil, conversationId: conversationId, .text(text))
                    }
                    #expect(refused?.code == .messageTooLarge)
                    #expect(refused?.httpStatus == nil)
                }
                #expect(emulator.stats().apiRequests == before)
                // 40,000 CJK characters: 120 KB of UTF-8, 80 KB as Teams counts them.
                let cjk = String(repeating: "漢", count: 40_000)
                _ = try await client.sendActivity(serviceUrl: nil, conversationId: conversationId, .text(cjk))
                // A 200 KB base64 image is not counted.
                let image = "data:image/png;base64," + String(repeating: "QUJD", count: 50_000)
                let card = #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"Image","url":"\#(image)"}]}"#
                _ = try await client.sendActivity(
                    serviceUrl: nil, conversationId: conversationId, .adaptiveCard(json: Array(card.utf8)))
                #expect(emulator.conversation(conversationId)?.activities.count == sent + 2)
            }
            try await withClient(for: emulator, configure: { $0.maxActivityBytes = 1 << 20 }) { client in
                let conversationId = try await chat(client)
                let sent = emulator.conversation(conversationId)?.activities.count ?? 0
                // Under 100 KB of UTF-8, over 100 KB as Teams counts it: the emulator refuses it as Teams would.
                for text in [String(repeating: "x", count: 52_000), String(repeating: "漢", count: 52_000)] {
                    let rejected = await botConnectorError {
                        _ = try await client.sendActivity(serviceUrl: nil, conversationId: conversationId, .text(text))
                    }
                    #expect(rejected?.httpStatus == 413)
                    #expect(rejected?.teamsCode == "MessageSizeTooBig")
                }
                // 150 KB of UTF-8, 100,000 bytes as Teams counts it: accepted.
                let cjk = String(repeating: "漢", count: 50_000)
                _ = try await client.sendActivity(serviceUrl: nil, conversationId: conversationId, .text(cjk))
                #expect(emulator.conversation(conversationId)?.activities.count == sent + 1)
            }
        }
    }

    @Test("a card that is not a JSON object is refused before sending")
    func malformedCard() async throws {
        try await withEmulator { emulator in
            try await withClient(for: emulator) { client in
                let conversationId = try await chat(client)
                let error = await botConnectorError {
                    _ = try await client.sendActivity(
                        serviceUrl: nil, conversationId: conversationId, .adaptiveCard(json: Array("[1,2]".utf8)))
                }
                #expect(error?.code == .badArgument)
                #expect(emulator.conversation(conversationId)?.activities.isEmpty == true)
            }
        }
    }
}
