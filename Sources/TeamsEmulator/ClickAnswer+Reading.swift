extension ClickAnswer {
    static let cardType = "application/vnd.microsoft.card.adaptive"
    static let messageType = "application/vnd.microsoft.activity.message"
    static let errorType = "application/vnd.microsoft.error"

    /// The bot's answer to an `adaptiveCard/action` invoke, read as Teams reads it: HTTP 200 with
    /// `{"statusCode":200,"type":cardType,"value":CARD}`, `{"statusCode":200,"type":messageType,"value":"text"}`
    /// or `{"statusCode":4xx|5xx,"type":errorType,"value":{"code","message"}}`; anything else is invalid.
    /// - Returns: the answer, and the card that replaces the one pressed when there is one.
    static func invoke(status: Int, body: [UInt8], timedOut: Bool) -> (answer: ClickAnswer, card: JSONValue?) {
        if timedOut { return (.timeout, nil) }
        guard status == 200 else { return (.invalid(reason: "HTTP status \(status), not 200"), nil) }
        guard !body.isEmpty else { return (.invalid(reason: "an empty body"), nil) }
        guard let answer = JSONValue(json: body), let members = answer.object else {
            return (.invalid(reason: "the body is not a JSON object"), nil)
        }
        guard let statusCode = members["statusCode"]?.int else {
            return (.invalid(reason: "statusCode is missing or not an integer"), nil)
        }
        let type = members["type"]?.string
        let value = members["value"]
        switch (statusCode, type) {
        case (200, Self.cardType):
            guard let card = value, card["type"]?.string == "AdaptiveCard" else {
                return (.invalid(reason: "value is not an AdaptiveCard object"), nil)
            }
            if let version = card["version"], version.string.map(Validation.supportedCardVersion) != true {
                return (.invalid(reason: "the card's version must be at most 1.5"), nil)
            }
            return (.card, card)
        case (200, Self.messageType):
            guard let text = value?.string else { return (.invalid(reason: "value is not a string"), nil) }
            return (.message(text), nil)
        case (400...599, Self.errorType):
            guard let code = value?["code"]?.string, let message = value?["message"]?.string else {
                return (.invalid(reason: "value needs a code and a message"), nil)
            }
            return (.error(statusCode: statusCode, code: code, message: message), nil)
        default:
            let named = type.map { "type \(JSONText.quote($0))" } ?? "no type"
            return (.invalid(reason: "statusCode \(statusCode) with \(named) is not an answer Teams shows"), nil)
        }
    }

    /// The bot's answer to the `message` of an Action.Submit: any 2xx (its body is not read), else invalid.
    static func submit(status: Int, timedOut: Bool) -> ClickAnswer {
        if timedOut { return .timeout }
        guard (200..<300).contains(status) else { return .invalid(reason: "HTTP status \(status), not 2xx") }
        return .none
    }
}
