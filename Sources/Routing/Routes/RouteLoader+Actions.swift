import Yams

extension RouteLoader {
    /// Longest verb a route may answer. Default: 64 bytes.
    static let maxVerbBytes = 64

    /// `actions: { <verb>: { card: FILE } | { text: TEXT } }`: answers to the route's buttons, whose templates see
    /// the button's data, the presser and the press (``ActionContext/rootNames``), not the event.
    mutating func loadActions(_ node: Node?, label: String) -> [String: ActionAnswer] {
        guard let node else { return [:] }
        guard let m = node.mapping else {
            problem(node, label, "expected a map of verb to { card: FILE } or { text: TEXT }")
            return [:]
        }
        var answers: [String: ActionAnswer] = [:]
        for (verbNode, value) in m {
            let verb = verbNode.string ?? ""
            let verbLabel = "\(label).\(verb)"
            guard Self.isVerb(verb) else {
                problem(verbNode, label, "'\(verb)' is not a verb: 1 to 64 of letters, digits, '.', '_' and '-'")
                continue
            }
            guard let fields = value.mapping else {
                problem(value, verbLabel, "expected { card: FILE } or { text: TEXT }")
                continue
            }
            unknownKeys(fields, allowed: ["card", "text"], label: verbLabel)
            switch (fields["card"], fields["text"]) {
            case (let c?, nil):
                if let card = cardTemplate(c, label: verbLabel + ".card", roots: ActionContext.rootNames) {
                    answers[verb] = .card(card)
                }
            case (nil, let t?):
                if let text = text(t, verbLabel + ".text", roots: ActionContext.rootNames) {
                    answers[verb] = .text(text)
                }
            case (.some, .some):
                problem(value, verbLabel, "give either card or text, not both")
            case (nil, nil):
                problem(value, verbLabel, "card or text is required")
            }
        }
        return answers
    }

    static func isVerb(_ verb: String) -> Bool {
        !verb.isEmpty && verb.utf8.count <= maxVerbBytes
            && verb.utf8.allSatisfy {
                ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A)
                    || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
            }
    }
}
