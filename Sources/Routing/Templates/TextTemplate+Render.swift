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
            guard out.utf8.count <= limits.maxMessageBytes else {
                throw TemplateError(.messageTooLarge, "the text is over \(limits.maxMessageBytes) bytes")
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

/// Bounds on rendering, so hostile event values cannot blow up memory or Teams' size limits.
public struct RenderLimits: Sendable, Hashable {
    /// Largest single substituted value. Default: 32 KiB.
    public var maxValueBytes: Int
    /// Largest rendered card (compact JSON) or text. Default: 100 KiB.
    public var maxMessageBytes: Int
    /// Most copies one `$data` repetition may make. Default: 500.
    public var maxRepetitions: Int

    public init(maxValueBytes: Int = 32 * 1024, maxMessageBytes: Int = 100 * 1024, maxRepetitions: Int = 500) {
        self.maxValueBytes = maxValueBytes
        self.maxMessageBytes = maxMessageBytes
        self.maxRepetitions = maxRepetitions
    }
}
