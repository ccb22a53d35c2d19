import Store

/// One line of a conversation-reference import: a reference Herald can send to, or a refusal that says why.
enum ReferenceCheck {
    static func check(_ bytes: [UInt8]) throws(PropertyViolation) {
        let text = String(decoding: bytes, as: UTF8.self)
        let reference: ConversationReference
        do throws(BotFrameworkReference.ParseError) {
            reference = try BotFrameworkReference.parse(text, line: 1)
        } catch {
            guard !error.message.isEmpty else { throw PropertyViolation(.reference, "a refusal without a reason") }
            return
        }
        guard !reference.conversationId.isEmpty, !reference.key.isEmpty else {
            throw PropertyViolation(.reference, "a reference without a conversation or key from \(excerpt(bytes))")
        }
        let scheme = reference.serviceUrl.prefix(while: { $0 != ":" }).lowercased()
        guard scheme == "https" || scheme == "http" else {
            throw PropertyViolation(.reference, "a reference whose serviceUrl is not http(s) from \(excerpt(bytes))")
        }
        guard reference.tenantId == reference.tenantId.lowercased() else {
            throw PropertyViolation(.reference, "a tenant id not lower-cased from \(excerpt(bytes))")
        }
    }
}
