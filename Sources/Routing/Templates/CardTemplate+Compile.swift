import HeraldJSON

extension CardTemplate {
    /// Compiles a card template from its JSON text. Throws the first problem, with its JSON path.
    public init(json: some Collection<UInt8>) throws(TemplateError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(json)
        } catch {
            throw TemplateError(.syntax, "not valid JSON: \(error)")
        }
        try self.init(value: value)
    }

    /// Compiles a card template from a parsed JSON value.
    public init(value: JSONValue) throws(TemplateError) {
        guard case .object(let members) = value else {
            throw TemplateError(.invalidCard, "a card must be a JSON object", location: "$")
        }
        guard value["type"] == .string("AdaptiveCard") else {
            throw TemplateError(.invalidCard, "\"type\" must be \"AdaptiveCard\"", location: "$.type")
        }
        guard case .string(let version)? = value["version"] else {
            throw TemplateError(.invalidCard, "\"version\" is missing (use \"1.5\" or lower)", location: "$.version")
        }
        let parts = version.split(separator: ".")
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]) else {
            throw TemplateError(.invalidCard, "version \"\(version)\" is not MAJOR.MINOR", location: "$.version")
        }
        guard major >= 1, (major, minor) <= Self.maxVersion else {
            throw TemplateError(
                .invalidCard, "version \(version) is above 1.5, the highest Teams renders", location: "$.version")
        }
        var compiler = Compiler(supportsExecute: (major, minor) >= Self.executeVersion)
        (self.root, self.literalOptOut) = try compiler.compileRoot(members)
        self.literals = compiler.literals
        self.version = version
        self.supportsExecute = compiler.supportsExecute
        self.expressions = compiler.expressions
        self.verbs = compiler.verbs
        self.hasButtons = compiler.hasButtons
    }

    struct Compiler {
        /// What a value is to Herald, which decides what it looks for inside.
        enum Role: Equatable {
            /// Part of the card: elements, actions, their properties.
            case card
            /// A button's `data` object: Herald's `herald` block goes last in it.
            case buttonData
            /// Inside a button's `data`: the button's payload, not the card's structure.
            case inButtonData
        }

        let supportsExecute: Bool
        var expressions: [(location: String, expression: Expression, inRepetition: Bool)] = []
        var literals: [UInt8] = []
        var verbs: Set<String> = []
        var hasButtons = false

        init(supportsExecute: Bool) { self.supportsExecute = supportsExecute }

        mutating func literal(_ value: JSONValue) -> Node {
            let start = literals.count
            JSONWriter.append(value, to: &literals)
            return .literal(start: start, end: literals.count)
        }

        mutating func compile(
            _ value: JSONValue, location: String, inRepetition: Bool, role: Role = .card
        ) throws(TemplateError) -> Node {
            let mark = literals.count
            switch value {
            case .string(let s):
                let template: TextTemplate
                do {
                    template = try TextTemplate(s)
                } catch {
                    throw TemplateError(error.code, error.message, location: location)
                }
                if template.isLiteral { return literal(value) }
                for case .expression(let e) in template.parts {
                    expressions.append((location, e, inRepetition))
                }
                return .string(template)
            case .array(let elements):
                var nodes: [Node] = []
                for (i, element) in elements.enumerated() {
                    nodes.append(
                        try compile(
                            element, location: "\(location)[\(i)]", inRepetition: inRepetition,
                            role: role == .card ? .card : .inButtonData))
                }
                return collapse(.array(nodes), original: value, mark: mark)
            case .object(let members):
                let object = try compileObject(members, location: location, inRepetition: inRepetition, role: role)
                return collapse(.object(object), original: value, mark: mark)
            default:
                return literal(value)
            }
        }

        mutating func compileObject(
            _ members: [JSONMember], location: String, inRepetition: Bool, role: Role, isRoot: Bool = false
        ) throws(TemplateError) -> ObjectNode {
            var object = ObjectNode(members: [], data: nil, when: nil)
            var isButton = false
            if role != .inButtonData { try checkUniqueKeys(members, location: location, role: role) }
            if role == .card, try isButtonObject(members, location: location) {
                isButton = true
                hasButtons = true
                object.appendix = .dataWithHerald
            }
            if role == .buttonData { object.appendix = .herald }
            var repeated = inRepetition
            for member in members where member.key == "$data" {
                object.data = try binding(member.value, location: "\(location).$data", inRepetition: inRepetition)
                repeated = true
            }
            for member in members {
                let memberLocation = "\(location).\(member.key)"
                switch member.key {
                case "$data": continue
                case "$when":
                    if role == .buttonData {
                        throw TemplateError(
                            .invalidCard, "a button's data cannot have $when (put $when on the button)",
                            location: memberLocation)
                    }
                    object.when = try binding(member.value, location: memberLocation, inRepetition: repeated)
                case "herald" where role == .buttonData:
                    // Herald's own: a template can neither forge nor remove the block it writes here.
                    continue
                default:
                    var valueRole: Role = role == .card ? .card : .inButtonData
                    if isButton, member.key == "data" {
                        guard case .object = member.value else {
                            throw TemplateError(
                                .invalidCard,
                                "a button's data must be a JSON object: Herald adds its herald block there",
                                location: memberLocation)
                        }
                        valueRole = .buttonData
                        object.appendix = .none
                    }
                    let keyStart = literals.count
                    JSONWriter.appendString(member.key, to: &literals)
                    literals.append(UInt8(ascii: ":"))
                    let keyEnd = literals.count
                    let value: Node
                    if isRoot, member.key == "actions" {
                        value = try rootActions(member.value, location: memberLocation)
                    } else {
                        value = try compile(
                            member.value, location: memberLocation, inRepetition: repeated, role: valueRole)
                    }
                    object.members.append((keyStart, keyEnd, value))
                }
            }
            return object
        }

        /// `$data` and `$when` must be exactly one `${...}` expression.
        mutating func binding(
            _ value: JSONValue, location: String, inRepetition: Bool
        ) throws(TemplateError)
            -> Expression
        {
            guard case .string(let s) = value else {
                throw TemplateError(.syntax, "must be a \"${...}\" expression", location: location)
            }
            let template: TextTemplate
            do {
                template = try TextTemplate(s)
            } catch {
                throw TemplateError(error.code, error.message, location: location)
            }
            guard let expression = template.soleExpression else {
                throw TemplateError(.syntax, "must be exactly one \"${...}\" expression", location: location)
            }
            expressions.append((location, expression, inRepetition))
            return expression
        }

        /// A subtree with nothing to substitute becomes one literal; its pieces are dropped from the buffer.
        mutating func collapse(_ node: Node, original: JSONValue, mark: Int) -> Node {
            switch node {
            case .array(let nodes) where nodes.allSatisfy(\.isLiteral):
                literals.removeSubrange(mark...)
                return literal(original)
            case .object(let o)
            where o.data == nil && o.when == nil && o.appendix == .none && o.members.allSatisfy(\.value.isLiteral):
                literals.removeSubrange(mark...)
                return literal(original)
            default:
                return node
            }
        }
    }
}

extension CardTemplate.Node {
    var isLiteral: Bool {
        if case .literal = self { return true }
        return false
    }
}
