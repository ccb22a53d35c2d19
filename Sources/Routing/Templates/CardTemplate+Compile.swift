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
        guard case .object = value else {
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
        var compiler = Compiler()
        self.root = try compiler.compile(value, location: "$", inRepetition: false)
        self.literals = compiler.literals
        self.version = version
        self.expressions = compiler.expressions
    }

    struct Compiler {
        var expressions: [(location: String, expression: Expression, inRepetition: Bool)] = []
        var literals: [UInt8] = []

        mutating func literal(_ value: JSONValue) -> Node {
            let start = literals.count
            JSONWriter.append(value, to: &literals)
            return .literal(start: start, end: literals.count)
        }

        mutating func compile(_ value: JSONValue, location: String, inRepetition: Bool) throws(TemplateError) -> Node {
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
                    nodes.append(try compile(element, location: "\(location)[\(i)]", inRepetition: inRepetition))
                }
                return collapse(.array(nodes), original: value, mark: mark)
            case .object(let members):
                var object = ObjectNode(members: [], data: nil, when: nil)
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
                        object.when = try binding(member.value, location: memberLocation, inRepetition: repeated)
                    default:
                        let keyStart = literals.count
                        JSONWriter.appendString(member.key, to: &literals)
                        literals.append(UInt8(ascii: ":"))
                        let keyEnd = literals.count
                        object.members.append(
                            (
                                keyStart, keyEnd,
                                try compile(member.value, location: memberLocation, inRepetition: repeated)
                            ))
                    }
                }
                return collapse(.object(object), original: value, mark: mark)
            default:
                return literal(value)
            }
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
            case .object(let o) where o.data == nil && o.when == nil && o.members.allSatisfy(\.value.isLiteral):
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
