import HeraldJSON

extension CardTemplate {
    /// Renders the card as compact JSON bytes for `event`.
    public func render(
        for event: NotificationEvent, limits: RenderLimits = RenderLimits()
    ) throws(TemplateError)
        -> [UInt8]
    {
        var out: [UInt8] = []
        out.reserveCapacity(2048)
        try render(for: event, limits: limits, into: &out)
        return out
    }

    /// Appends the rendered card to `out`.
    public func render(
        for event: NotificationEvent, limits: RenderLimits, into out: inout [UInt8]
    )
        throws(TemplateError)
    {
        try render(in: EvaluationScope(event: event), limits: limits, into: &out)
    }

    /// Appends the rendered card to `out`, reusing a scope the caller already built for the event.
    public func render(in scope: EvaluationScope, limits: RenderLimits, into out: inout [UInt8]) throws(TemplateError) {
        var renderer = Renderer(limits: limits, start: out.count, literals: literals)
        let wrote = try renderer.render(root, scope: scope, into: &out)
        if !wrote { out.append(contentsOf: "{}".utf8) }
        try renderer.checkFinalSize(out)
    }

    struct Renderer {
        let limits: RenderLimits
        let start: Int
        let literals: [UInt8]
        /// `"herald":{...}`, written into every button's data; nil renders the template as written.
        var herald: [UInt8]?
        /// Where the delivery id goes in ``herald``, when it is not known yet.
        var heraldSlot: Int?
        /// The opt-out button, with its herald block, for the end of the root card's actions.
        var optOut: [UInt8]?
        var optOutSlot: Int?
        /// Where delivery ids go in the card, from its first byte, ascending.
        var slots: [Int] = []

        init(limits: RenderLimits, start: Int, literals: [UInt8]) {
            self.limits = limits
            self.start = start
            self.literals = literals
        }

        func appendLiteral(_ start: Int, _ end: Int, to out: inout [UInt8]) {
            literals.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[start..<end])) }
        }

        /// While rendering: refuses a card that is over the limit however its characters count (bounded memory).
        func checkSize(_ out: [UInt8]) throws(TemplateError) {
            guard TeamsMessageSize.lowerBound(utf8Count: out.count - start) <= limits.maxMessageBytes else {
                throw tooLarge()
            }
        }

        /// Once rendered: refuses a card over the limit as Teams counts it (UTF-16, base64 images left out).
        func checkFinalSize(_ out: [UInt8]) throws(TemplateError) {
            let bytes = out.count - start
            // Two bytes per UTF-8 byte at most: a small card needs no count.
            guard bytes * 2 > limits.maxMessageBytes else { return }
            guard TeamsMessageSize.of(json: out, from: start) <= limits.maxMessageBytes else { throw tooLarge() }
        }

        private func tooLarge() -> TemplateError {
            TemplateError(
                .messageTooLarge,
                "the rendered card is over \(limits.maxMessageBytes) bytes as Teams counts them (UTF-16)")
        }

        /// Writes `node`; returns false (writing nothing) when `$when` dropped it.
        mutating func render(
            _ node: Node, scope: EvaluationScope, into out: inout [UInt8]
        ) throws(TemplateError)
            -> Bool
        {
            switch node {
            case .literal(let start, let end):
                appendLiteral(start, end, to: &out)
            case .string(let template):
                if let e = template.soleExpression {
                    switch e.evaluate(in: scope) {
                    case .number(let n)?:
                        JSONWriter.appendNumber(n, to: &out)
                        return true
                    case .bool(let b)?:
                        out.append(contentsOf: (b ? "true" : "false").utf8)
                        return true
                    default: break
                    }
                }
                out.append(UInt8(ascii: "\""))
                try template.renderEscaped(in: scope, limits: limits, into: &out)
                out.append(UInt8(ascii: "\""))
            case .array(let nodes):
                try renderArray(nodes, scope: scope, withOptOut: false, into: &out)
            case .actions(let nodes):
                try renderArray(nodes, scope: scope, withOptOut: true, into: &out)
            case .object(let object):
                if let data = object.data {
                    var inner = scope
                    inner.item = data.evaluate(in: scope) ?? .null
                    if let when = object.when, !(when.evaluate(in: inner)?.isTruthy ?? false) { return false }
                    try renderMembers(object, scope: inner, into: &out)
                } else {
                    if let when = object.when, !(when.evaluate(in: scope)?.isTruthy ?? false) { return false }
                    try renderMembers(object, scope: scope, into: &out)
                }
            }
            try checkSize(out)
            return true
        }

        mutating func renderMembers(
            _ object: ObjectNode, scope: EvaluationScope, into out: inout [UInt8]
        )
            throws(TemplateError)
        {
            out.append(UInt8(ascii: "{"))
            var first = true
            for member in object.members {
                let mark = out.count
                if !first { out.append(UInt8(ascii: ",")) }
                appendLiteral(member.keyStart, member.keyEnd, to: &out)
                if try render(member.value, scope: scope, into: &out) {
                    first = false
                } else {
                    out.removeSubrange(mark...)
                }
            }
            if object.appendix != .none, herald != nil { writeAppendix(object.appendix, first: first, into: &out) }
            out.append(UInt8(ascii: "}"))
        }

        mutating func renderArray(
            _ nodes: [Node], scope: EvaluationScope, withOptOut: Bool, into out: inout [UInt8]
        ) throws(TemplateError) {
            out.append(UInt8(ascii: "["))
            var first = true
            for element in nodes {
                if case .object(let o) = element, let data = o.data {
                    try repeatElement(o, data: data, scope: scope, first: &first, into: &out)
                } else {
                    let mark = out.count
                    if !first { out.append(UInt8(ascii: ",")) }
                    if try render(element, scope: scope, into: &out) {
                        first = false
                    } else {
                        out.removeSubrange(mark...)
                    }
                }
            }
            if withOptOut, optOut != nil {
                if !first { out.append(UInt8(ascii: ",")) }
                writeOptOut(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        }

        /// An array element with `$data`: one copy per item of an array, one for any other present value.
        mutating func repeatElement(
            _ object: ObjectNode, data: Expression, scope: EvaluationScope, first: inout Bool, into out: inout [UInt8]
        ) throws(TemplateError) {
            let items: [JSONValue]
            switch data.evaluate(in: scope) {
            case .array(let a)?: items = a
            case nil, .null?: items = []
            case let other?: items = [other]
            }
            guard items.count <= limits.maxRepetitions else {
                throw TemplateError(
                    .messageTooLarge, "$data repeats \(items.count) times, over \(limits.maxRepetitions)")
            }
            for (index, item) in items.enumerated() {
                var inner = scope
                inner.item = item
                inner.index = index
                if let when = object.when, !(when.evaluate(in: inner)?.isTruthy ?? false) { continue }
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                try renderMembers(object, scope: inner, into: &out)
                try checkSize(out)
            }
        }
    }
}
