import HeraldJSON

extension TextTemplate {
    /// Renders to a string; each substituted value is limited to `maxValueBytes`, the whole to `maxBytes`.
    public func render(in scope: EvaluationScope, limits: RenderLimits) throws(TemplateError) -> String {
        if parts.count == 1, case .literal(let s) = parts[0] { return s }
        var out = ""
        for part in parts {
            switch part {
            case .literal(let s): out += s
            case .expression(let e):
                let value = e.evaluate(in: scope)?.text ?? ""
                guard value.utf8.count <= limits.maxValueBytes else {
                    throw TemplateError(.valueTooLarge, "a value is over \(limits.maxValueBytes) bytes")
                }
                out += value
            }
            guard TeamsMessageSize.of(text: out) <= limits.maxMessageBytes else {
                throw TemplateError(
                    .messageTooLarge, "the text is over \(limits.maxMessageBytes) bytes as Teams counts them (UTF-16)")
            }
        }
        return out
    }

    /// Renders the escaped contents of a JSON string (no quotes) straight into `out`.
    func renderEscaped(in scope: EvaluationScope, limits: RenderLimits, into out: inout [UInt8]) throws(TemplateError) {
        for part in parts {
            switch part {
            case .literal(let s): JSONWriter.appendEscaped(s, to: &out)
            case .expression(let e):
                let value: String
                switch e.evaluate(in: scope) {
                case .string(let s)?: value = s
                case let other?: value = other.text
                case nil: value = ""
                }
                guard value.utf8.count <= limits.maxValueBytes else {
                    throw TemplateError(.valueTooLarge, "a value is over \(limits.maxValueBytes) bytes")
                }
                JSONWriter.appendEscaped(value, to: &out)
            }
        }
    }
}
