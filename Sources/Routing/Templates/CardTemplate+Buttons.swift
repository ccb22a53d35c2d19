import HeraldJSON

extension CardTemplate.Compiler {
    /// The root card: an object whose `actions` can take the opt-out button. A root with nothing to substitute
    /// is still one literal, with the place the button would go.
    mutating func compileRoot(
        _ members: [JSONMember]
    ) throws(TemplateError) -> (CardTemplate.Node, CardTemplate.LiteralOptOut?) {
        let mark = literals.count
        var object = try compileObject(members, location: "$", inRepetition: false, role: .card, isRoot: true)
        if !members.contains(where: { $0.key == "actions" }) { object.appendix = .actionsWithOptOut }
        let isStatic = object.members.allSatisfy {
            if case .actions(let nodes) = $0.value { nodes.allSatisfy(\.isLiteral) } else { $0.value.isLiteral }
        }
        guard object.data == nil, object.when == nil, isStatic else { return (.object(object), nil) }
        literals.removeSubrange(mark...)
        // Written member by member as JSONWriter writes an object, to know where the actions array ends.
        let start = literals.count
        var optOut: CardTemplate.LiteralOptOut?
        literals.append(UInt8(ascii: "{"))
        for (i, member) in members.enumerated() {
            if i > 0 { literals.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(member.key, to: &literals)
            literals.append(UInt8(ascii: ":"))
            JSONWriter.append(member.value, to: &literals)
            if member.key == "actions", case .array(let actions) = member.value {
                optOut = .init(offset: literals.count - 1 - start, prefix: actions.isEmpty ? "" : ",", suffix: "")
            }
        }
        literals.append(UInt8(ascii: "}"))
        let end = literals.count
        return (
            .literal(start: start, end: end),
            optOut ?? .init(offset: end - 1 - start, prefix: #","actions":["#, suffix: "]")
        )
    }

    /// The root card's `actions`: a list, never collapsed, so the opt-out button can follow its last element.
    mutating func rootActions(_ value: JSONValue, location: String) throws(TemplateError) -> CardTemplate.Node {
        guard case .array(let elements) = value else {
            throw TemplateError(.invalidCard, "actions must be a list of actions", location: location)
        }
        var nodes: [CardTemplate.Node] = []
        for (i, element) in elements.enumerated() {
            nodes.append(try compile(element, location: "\(location)[\(i)]", inRepetition: false))
        }
        return .actions(nodes)
    }

    /// True for an `Action.Execute` or `Action.Submit`, whose literal verb joins ``verbs``. Event data cannot
    /// decide what an element is: a `type` with bindings is an error, so every button is known here.
    mutating func isButtonObject(_ members: [JSONMember], location: String) throws(TemplateError) -> Bool {
        guard case .string(let type)? = members.first(where: { $0.key == "type" })?.value else { return false }
        if type.contains("${") {
            throw TemplateError(
                .invalidCard, "an element's type cannot come from event data", location: "\(location).type")
        }
        func literalString(_ value: JSONValue?) -> String? {
            guard case .string(let s)? = value, !s.contains("${") else { return nil }
            return s
        }
        switch type {
        case "Action.Execute":
            guard supportsExecute else {
                throw TemplateError(.invalidCard, "Action.Execute needs card version 1.4 or higher", location: location)
            }
            if let verb = literalString(members.first { $0.key == "verb" }?.value) { verbs.insert(verb) }
            return true
        case "Action.Submit":
            if let verb = literalString(members.first { $0.key == "data" }?.value["verb"]) { verbs.insert(verb) }
            return true
        default:
            return false
        }
    }

    /// A key written twice leaves it to each client which one counts: a button could say one thing to Herald
    /// and another to Teams. (Every `herald` key of a button's data is dropped, however many.)
    func checkUniqueKeys(_ members: [JSONMember], location: String, role: Role) throws(TemplateError) {
        guard members.count > 1 else { return }
        var seen: Set<String> = []
        for member in members
        where !(role == .buttonData && member.key == "herald") && !seen.insert(member.key).inserted {
            throw TemplateError(.invalidCard, "\"\(member.key)\" appears twice", location: location)
        }
    }
}
