import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import BotConnector

@Suite("Error bodies, Retry-After, URLs and activity JSON")
struct ClassificationTests {
    private func classify(_ status: Int, _ body: String, headers: HTTPHeaders = [:]) -> BotConnectorError {
        BotConnectorError.fromResponse(
            status: status, headers: headers, body: Array(body.utf8), nowEpochSeconds: 1_700_000_000)
    }

    @Test("the errorCode 209 body with a JSON-in-a-string subCode is read")
    func subCodeShape() {
        let body =
            #"{"errorCode":209,"message":"{\"subCode\":\"MessageWritesBlocked\",\"details\":\"Thread is blocked from message writes.\",\"errorCode\":null,\"errorSubCode\":null}"}"#
        let error = self.classify(403, body, headers: ["X-Correlating-OperationId": "abc123"])
        #expect(error.code == .messageWritesBlocked)
        #expect(error.teamsCode == "MessageWritesBlocked")
        #expect(error.message == "Thread is blocked from message writes.")
        #expect(error.correlationId == "abc123")
        #expect(error.recipientBlocked)
    }

    @Test("every 403 code Teams documents is classified; unknown 403s are plain forbidden")
    func forbiddenCodes() {
        let expected: [(String, BotConnectorError.Code, Bool)] = [
            ("BotDisabledByAdmin", .botDisabledByAdmin, true),
            ("BotNotInConversationRoster", .botNotInConversationRoster, true),
            ("ConversationBlockedByUser", .conversationBlockedByUser, true),
            ("ForbiddenOperationException", .forbiddenOperation, true),
            ("InvalidBotApiHost", .invalidBotApiHost, false),
            ("SomethingNew", .forbidden, false),
        ]
        for (name, code, blocked) in expected {
            let error = self.classify(403, #"{"error":{"code":"\#(name)","message":"m"}}"#)
            #expect(error.code == code)
            #expect(error.teamsCode == name)
            #expect(error.recipientBlocked == blocked)
            #expect(!error.isRetryable)
        }
        #expect(self.classify(403, "").code == .forbidden)
        #expect(self.classify(403, "<html>Forbidden</html>").message == "<html>Forbidden</html>")
    }

    /// A tenant moved to another geo: Teams says so with `BadArgument` on 400 or 403, or redirects; none of it is
    /// retryable as it is, and none of it means the recipient blocked the bot.
    @Test("'User is from different region' on 400 or 403, and redirects, are a wrong region")
    func wrongRegion() {
        let body = #"{"error":{"code":"BadArgument","message":"User is from different region"}}"#
        for status in [400, 403] {
            let error = self.classify(status, body)
            #expect(error.code == .wrongRegion, "HTTP \(status)")
            #expect(error.teamsCode == "BadArgument", "Teams' own code is kept for the outcome")
            #expect(!error.isRetryable && !error.recipientBlocked)
        }
        for status in [301, 302, 307, 308] {
            #expect(self.classify(status, "", headers: ["Location": "https://elsewhere.example/"]).code == .wrongRegion)
        }
        #expect(
            self.classify(400, #"{"error":{"code":"BadArgument","message":"Invalid activity"}}"#).code == .badArgument)
        #expect(self.classify(403, #"{"error":{"code":"Forbidden","message":"region lock"}}"#).code == .forbidden)
    }

    @Test("retryable exactly for 412, 429, 502, 503, 504")
    func retryableStatuses() {
        let retryable = [412, 429, 502, 503, 504]
        for status in [400, 401, 403, 404, 405, 409, 412, 413, 429, 500, 501, 502, 503, 504] {
            #expect(self.classify(status, "{}").isRetryable == retryable.contains(status), "HTTP \(status)")
        }
        #expect(self.classify(413, "{}").code == .messageTooLarge)
        #expect(self.classify(500, "{}").code == .serviceError)
        #expect(
            self.classify(404, #"{"error":{"code":"ConversationNotFound","message":"x"}}"#).code
                == .conversationNotFound)
    }

    @Test("Retry-After is read as seconds and as an HTTP date")
    func retryAfterForms() {
        #expect(self.classify(429, "", headers: ["Retry-After": "7"]).retryAfter == .seconds(7))
        // 1_700_000_000 is Tue, 14 Nov 2023 22:13:20 GMT.
        let date = self.classify(429, "", headers: ["Retry-After": "Tue, 14 Nov 2023 22:13:32 GMT"])
        #expect(date.retryAfter == .seconds(12))
        #expect(RetryAfter.parse("Tue, 14 Nov 2023 22:00:00 GMT", now: 1_700_000_000) == .zero)
        #expect(RetryAfter.parse("soon", now: 0) == nil)
        #expect(self.classify(429, "").retryAfter == nil)
    }

    /// Found by fuzzing: `Retry-After: 1e300` (and a date in the year 99999999999999) crashed the worker converting
    /// to whole milliseconds. Longer asks than an hour are read as an hour; fractions round up.
    @Test(
        "Retry-After beyond an hour, in any form, is an hour; never a crash",
        arguments: [
            "1e300", "3600", "9223372036854775807", "4000.5", "Fri, 31 Dec 9999 23:59:59 GMT",
        ])
    func retryAfterIsBounded(value: String) {
        #expect(RetryAfter.parse(value, now: 1_700_000_000) == RetryAfter.longest)
    }

    /// Found by fuzzing: an empty code or message in the body gave an error with no text.
    @Test(
        "an empty code or message in the body leaves the status to speak",
        arguments: [
            #"{"errorCode":209,"message":""}"#, #"{"error":{"code":" ","message":"  "}}"#, "   ",
        ])
    func emptyDetailsFallBackToTheStatus(body: String) {
        let error = self.classify(403, body)
        #expect(error.code == .forbidden)
        #expect(error.message == "HTTP 403 from the Bot Connector")
        #expect(error.teamsCode == BotConnectorError.Code.forbidden.teamsName)
    }

    @Test func retryAfterFractionsAndImpossibleDates() {
        #expect(RetryAfter.parse("0.5", now: 0) == .milliseconds(500))
        #expect(RetryAfter.parse("0.0001", now: 0) == .milliseconds(1), "a wait asked for is never rounded to none")
        #expect(RetryAfter.parse("Sun, 06 Nov 99999999999999 08:49:37 GMT", now: 0) == nil)
        #expect(RetryAfter.parse("-1", now: 0) == nil)
    }

    @Test("API URLs join onto any serviceUrl prefix with exactly one slash, ids escaped")
    func urlJoining() throws {
        #expect(
            try ServiceUrl("https://smba.trafficmanager.net/teams").url("v3/conversations")
                == "https://smba.trafficmanager.net/teams/v3/conversations")
        #expect(
            try ServiceUrl("https://smba.trafficmanager.net/amer/").url("v3/conversations")
                == "https://smba.trafficmanager.net/amer/v3/conversations")
        #expect(
            try ServiceUrl("https://smba.trafficmanager.net").url("v3/conversations")
                == "https://smba.trafficmanager.net/v3/conversations")
        #expect(try ServiceUrl("http://127.0.0.1:8080/emea/").url("v3") == "http://127.0.0.1:8080/emea/v3")
        #expect(
            try BotConnectorClient.segment("19:abc@thread.tacv2;messageid=17")
                == "19%3Aabc%40thread.tacv2%3Bmessageid%3D17"
        )
        #expect(throws: BotConnectorError.self) { try BotConnectorClient.segment("..") }
        #expect(throws: BotConnectorError.self) { try BotConnectorClient.segment("") }
        #expect(try BotConnectorClient.segment("../x") == "..%2Fx")
        #expect(throws: BotConnectorError.self) { try ServiceUrl("ftp://smba.trafficmanager.net/") }
        #expect(throws: BotConnectorError.self) { try ServiceUrl("https://user@smba.trafficmanager.net/") }
        #expect(throws: BotConnectorError.self) { try ServiceUrl("https://smba.trafficmanager.net/teams/?x=1") }
    }

    @Test("activity JSON is valid for hostile text and carries text or a card, never both")
    func activityJSON() throws {
        let hostile = "quote \" backslash \\ newline \n tab \t nul \u{0} emoji 🎉 </script>"
        let text = MessageActivity.text(hostile, summary: "s\"", alert: false).encodedJSON()
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(text)) as? [String: Any])
        #expect(decoded["text"] as? String == hostile)
        #expect(decoded["summary"] as? String == "s\"")
        #expect(decoded["channelData"] == nil)
        #expect(decoded["attachments"] == nil)

        let card = MessageActivity.adaptiveCard(json: Array(#"{"type":"AdaptiveCard","version":"1.5"}"#.utf8))
            .encodedJSON()
        let cardDecoded = try #require(try JSONSerialization.jsonObject(with: Data(card)) as? [String: Any])
        #expect(cardDecoded["text"] == nil)
        #expect((cardDecoded["attachments"] as? [Any])?.count == 1)
    }

    @Test("the activity id is read from every form of a send's response; no id or not JSON is an error")
    func activityIdFromResponses() throws {
        func id(_ json: String) throws(BotConnectorError) -> String? {
            let service = try ServiceUrl("https://smba.trafficmanager.net/teams/")
            return try BotConnectorClient.activityId(
                .init(status: 201, headers: [:], body: ByteBuffer(string: json), service: service))
        }
        #expect(try id(#"{"id":"1:abc"}"#) == "1:abc")
        #expect(try id(" {\n \"id\" : \"1:abc\" }\n") == "1:abc")
        #expect(try id(#"{"id":"caf\u00e9 \"q\""}"#) == "café \"q\"")
        #expect(try id(#"{"id":"1:abc","extra":{"id":"2:x"}}"#) == "1:abc")
        #expect(try id(#"{"extra":"x","id":"1:abc"}"#) == "1:abc")
        #expect(try id(#"{"id":"é"}"#) == "é")
        #expect(try id("{}") == nil)
        #expect(try id(#"{"id":null}"#) == nil)
        #expect(throws: BotConnectorError.self) { try id(#"{"id":"1:abc"} trailing"#) }
        #expect(throws: BotConnectorError.self) { try id(#"{"id":"unterminated}"#) }
        #expect(throws: BotConnectorError.self) { try id("<html>gateway</html>") }
        // Not UTF-8: refused, not repaired into a different id.
        let service = try ServiceUrl("https://smba.trafficmanager.net/teams/")
        var invalid = ByteBuffer(string: #"{"id":""#)
        invalid.writeBytes([0xFF, 0xFE])
        invalid.writeString(#""}"#)
        #expect(throws: BotConnectorError.self) {
            try BotConnectorClient.activityId(.init(status: 201, headers: [:], body: invalid, service: service))
        }
    }

    @Test("cloud defaults follow the cloud")
    func cloudDefaults() {
        let gcch = BotConnectorClient.Configuration(appId: "a", appPassword: "p", cloud: .gcch)
        #expect(
            gcch.effectiveTokenURL
                == "https://login.microsoftonline.us/MicrosoftServices.onmicrosoft.us/oauth2/v2.0/token")
        #expect(gcch.effectiveScope == "https://api.botframework.us/.default")
        #expect(gcch.effectiveDefaultServiceUrl == "https://smba.infra.gov.teams.microsoft.us/teams")
        let single = BotConnectorClient.Configuration(appId: "a", appPassword: "p", tenantId: "contoso-tenant")
        #expect(single.effectiveTokenURL == "https://login.microsoftonline.com/contoso-tenant/oauth2/v2.0/token")
        #expect(single.effectiveScope == "https://api.botframework.com/.default")
    }
}

@Suite("Secrets stay out of logs")
struct SecretTests {
    @Test("printing a client configuration shows everything but the secret")
    func redacted() {
        let configuration = BotConnectorClient.Configuration(appId: "app-123", appPassword: "hunter2-secret")
        let text = "\(configuration)"
        #expect(text.contains("app-123"))
        #expect(!text.contains("hunter2-secret"))
        #expect(text.contains("<redacted>"))
        let tokens = TokenProvider.Configuration(
            tokenURL: "https://login.example/token", clientId: "app-123", clientSecret: "hunter2-secret",
            scope: "s")
        #expect(!"\(tokens)".contains("hunter2-secret"))
    }
}
