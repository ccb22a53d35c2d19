/// One language of a route's message (`message.locales.<tag>`): it replaces the default body, the summary, or
/// both, for recipients whose locale it matches.
public struct LocalizedTemplate: Sendable {
    /// The BCP 47 tag as written (`de`, `pt-BR`).
    public var tag: String
    /// Nil keeps the default body.
    public var body: MessageTemplate.Body?
    /// Nil keeps the default summary.
    public var summary: TextTemplate?

    public init(tag: String, body: MessageTemplate.Body?, summary: TextTemplate?) {
        self.tag = tag
        self.body = body
        self.summary = summary
    }
}

/// One language of a rendered message, as a ``Delivery`` carries it until the recipient's locale is known.
public struct LocalizedMessage: Sendable {
    public var tag: String
    public var message: RenderedMessage

    public init(tag: String, message: RenderedMessage) {
        self.tag = tag
        self.message = message
    }
}

/// Matching a recipient's locale to the tags a route has, the way people expect: the exact tag first (case and
/// `_`/`-` do not matter), then ever shorter prefixes (`de-AT` → `de`, `zh-Hant-TW` → `zh-Hant` → `zh`).
public enum LocaleMatch {
    /// The tag of `available` that `locale` falls back to, or nil (then the default template is used).
    public static func best(_ locale: String, among available: [String]) -> String? {
        guard !locale.isEmpty, !available.isEmpty else { return nil }
        var wanted = normalized(locale)
        let tags = available.map { ($0, normalized($0)) }
        while !wanted.isEmpty {
            if let hit = tags.first(where: { $0.1 == wanted }) { return hit.0 }
            guard let dash = wanted.lastIndex(of: "-") else { break }
            wanted = String(wanted[..<dash])
        }
        return nil
    }

    /// Lower-cased with `_` as `-`.
    static func normalized(_ tag: String) -> String {
        tag.lowercased().replacingOccurrences(of: "_", with: "-")
    }

    /// Whether `tag` can name a locale: ASCII letters, digits and `-`/`_`, starting with a letter, 35 bytes at most.
    public static func isWellFormed(_ tag: String) -> Bool {
        func letter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
        guard let first = tag.utf8.first, letter(first), tag.utf8.count <= 35 else { return false }
        return tag.utf8.allSatisfy { letter($0) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F }
    }
}

extension Delivery {
    /// The message for a recipient whose locale is `recipientLocale` (from its stored reference), else the route's
    /// `locale`, else the default: the best matching variant of ``localized``.
    public func message(forRecipientLocale recipientLocale: String?) -> RenderedMessage {
        guard !localized.isEmpty, let locale = recipientLocale ?? self.locale,
            let tag = LocaleMatch.best(locale, among: localized.map(\.tag))
        else { return message }
        return localized.first { $0.tag == tag }?.message ?? message
    }
}
