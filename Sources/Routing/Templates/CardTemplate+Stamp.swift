extension CardTemplate {
    /// Appends the rendered card to `out` with Herald's button data, and returns where delivery ids go.
    ///
    /// Every `Action.Execute` and `Action.Submit` of the card (in `actions`, ActionSets, `selectAction`, nested
    /// ShowCard cards, `$data` copies) gets `data.herald` = `stamp`, written last in its `data` (added when the
    /// button has none). `optOut` appends that button to the root card's `actions`. A nil `stamp.deliveryId` is
    /// written as `""`; the result lists, ascending, the offsets from the card's first byte between those quotes
    /// (``RenderedMessage/body(forDelivery:)`` fills them). `limits.maxMessageBytes` bounds the whole card.
    public func render(
        in scope: EvaluationScope, limits: RenderLimits, stamp: CardActionStamp, optOut: OptOutButton?,
        into out: inout [UInt8]
    ) throws(TemplateError) -> [Int] {
        guard hasButtons || optOut != nil else {
            try render(in: scope, limits: limits, into: &out)
            return []
        }
        var renderer = Renderer(limits: limits, start: out.count, literals: literals)
        let (herald, heraldSlot) = stamp.encodedMember()
        renderer.herald = herald
        renderer.heraldSlot = heraldSlot
        if let optOut {
            (renderer.optOut, renderer.optOutSlot) = optOut.encoded(
                execute: supportsExecute, herald: herald, slot: heraldSlot)
        }
        if case .literal(let start, let end) = root, let place = literalOptOut, renderer.optOut != nil {
            renderer.appendLiteral(start, start + place.offset, to: &out)
            out.append(contentsOf: place.prefix.utf8)
            renderer.writeOptOut(into: &out)
            out.append(contentsOf: place.suffix.utf8)
            renderer.appendLiteral(start + place.offset, end, to: &out)
        } else if try !renderer.render(root, scope: scope, into: &out) {
            out.append(contentsOf: "{}".utf8)
        }
        try renderer.checkFinalSize(out)
        return renderer.slots
    }
}

extension CardTemplate.Renderer {
    /// Herald's members at the end of an object (its caller checked there is a stamp).
    mutating func writeAppendix(_ appendix: CardTemplate.Appendix, first: Bool, into out: inout [UInt8]) {
        switch appendix {
        case .none:
            return
        case .herald:
            if !first { out.append(UInt8(ascii: ",")) }
            writeHerald(into: &out)
        case .dataWithHerald:
            if !first { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #""data":{"#.utf8)
            writeHerald(into: &out)
            out.append(UInt8(ascii: "}"))
        case .actionsWithOptOut:
            guard optOut != nil else { return }
            if !first { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #""actions":["#.utf8)
            writeOptOut(into: &out)
            out.append(UInt8(ascii: "]"))
        }
    }

    mutating func writeHerald(into out: inout [UInt8]) {
        guard let herald else { return }
        if let heraldSlot { slots.append(out.count - start + heraldSlot) }
        out.append(contentsOf: herald)
    }

    mutating func writeOptOut(into out: inout [UInt8]) {
        guard let optOut else { return }
        if let optOutSlot { slots.append(out.count - start + optOutSlot) }
        out.append(contentsOf: optOut)
    }
}
