import Foundation

extension EmulatorCore {
    /// Presses a button of a card the emulator holds, as Teams does: an Action.Execute posts an
    /// `adaptiveCard/action` invoke, once, and reads the bot's answer within ``EmulatorConfiguration/invokeTimeout``
    /// (a card answer replaces the card); an Action.Submit posts a `message` whose `value` is the button's data,
    /// with the retries of any message, and wants a 2xx. Both carry `replyToId`: the card's activity.
    /// - Throws: ``BotDriveError``: those of ``EmulatorState/prepare(_:data:serviceUrl:now:)``, 502 when the bot
    ///   could not be reached.
    func click(_ click: TeamsClick) async throws(BotDriveError) -> ClickResult {
        let override = try Self.override(click.data)
        let serviceUrl = self.inboundServiceUrl
        let now = Date()
        let prepared = try self.state.withLock { state throws(BotDriveError) -> EmulatorState.PreparedClick in
            try state.prepare(click, data: override, serviceUrl: serviceUrl, now: now)
        }
        let execute = prepared.button.kind == .execute
        let activity = prepared.activity
        let (posted, timedOut) = await self.deliver(
            [(activity.id, activity.type, activity.json())], to: prepared.endpoint, appId: prepared.appId,
            token: click.token, serviceUrlClaim: serviceUrl,
            timeout: execute ? prepared.invokeTimeout : BotEndpoint.timeout, retries: !execute)[0]
        guard posted.status != 0 || timedOut else {
            throw BotDriveError(status: 502, message: "The bot could not be reached at \(prepared.endpoint)")
        }
        let (answer, replacement) =
            execute
            ? ClickAnswer.invoke(status: posted.status, body: posted.responseBody, timedOut: timedOut)
            : (ClickAnswer.submit(status: posted.status, timedOut: timedOut), nil)
        if case .invalid(let reason) = answer {
            self.logger.debug(
                "bot's answer to a click is not one Teams accepts",
                metadata: ["activity.type": "\(activity.type)", "reason": "\(reason)"])
        }
        let card = self.state.withLock { $0.settle(prepared, answer: answer, replacement: replacement) }
        return ClickResult(
            activityId: prepared.activityId, conversationId: prepared.conversationId, type: activity.type,
            httpStatus: posted.status, answer: answer, card: card?.json, posted: posted)
    }

    /// The members `data` puts over the button's data.
    private static func override(_ data: [UInt8]?) throws(BotDriveError) -> [String: JSONValue]? {
        guard let data else { return nil }
        guard let members = JSONValue(json: data)?.object else { throw .badInput("data must be a JSON object") }
        return members
    }

    /// `{"activityId","conversationId","type","httpStatus","answer":{"kind",...},"card","posted"}`.
    static func json(_ result: ClickResult) -> String {
        var answer = #"{"kind":"\#(result.answer.kind.rawValue)""#
        switch result.answer {
        case .message(let text):
            answer += #","text":\#(JSONText.quote(text))"#
        case .error(let statusCode, let code, let message):
            answer +=
                #","statusCode":\#(statusCode),"#
                + #""error":{"code":\#(JSONText.quote(code)),"message":\#(JSONText.quote(message))}"#
        case .invalid(let reason):
            answer += #","reason":\#(JSONText.quote(reason))"#
        case .card, .timeout, .none:
            break
        }
        answer += "}"
        let card = result.card.map { String(decoding: $0, as: UTF8.self) } ?? "null"
        return #"{"activityId":\#(JSONText.quote(result.activityId)),"#
            + #""conversationId":\#(JSONText.quote(result.conversationId)),"type":\#(JSONText.quote(result.type)),"#
            + #""httpStatus":\#(result.httpStatus),"answer":\#(answer),"card":\#(card),"#
            + #""posted":\#(Self.json(result.posted, withResponse: true))}"#
    }
}
