import Yams

extension RouteLoader {
    mutating func loadRecipients(_ node: Node?, parent: Node, label: String) -> [RecipientTemplate] {
        guard let node else {
            problem(parent, label, "to is required: a list of recipients")
            return []
        }
        guard let list = node.sequence, !list.isEmpty else {
            problem(node, label, "expected a non-empty list of recipients")
            return []
        }
        var out: [RecipientTemplate] = []
        for (i, item) in list.enumerated() {
            let itemLabel = "\(label)[\(i)]"
            guard let m = item.mapping, m.count == 1, let (kindNode, value) = m.first.map({ ($0.key, $0.value) }) else {
                problem(
                    item, itemLabel,
                    "each recipient is a one-key map: user, conversation, reference, channel, teamMembers or group")
                continue
            }
            let kind = kindNode.string ?? ""
            if kind == "reference" {
                if let key = text(value, itemLabel + ".reference") { out.append(.reference(key: key)) }
                continue
            }
            guard let spec = RecipientTemplate.fields[kind] else {
                problem(
                    kindNode, itemLabel,
                    "unknown recipient kind '\(kind)' (use user, conversation, reference, channel, teamMembers or group)"
                )
                continue
            }
            guard let fields = value.mapping else {
                problem(value, "\(itemLabel).\(kind)", "expected a map of \(spec.all.joined(separator: ", "))")
                continue
            }
            unknownKeys(fields, allowed: spec.all, label: "\(itemLabel).\(kind)")
            var missing = spec.required.filter { fields[$0] == nil }
            let byDirectory = kind == "user" && (fields["email"] != nil || fields["upn"] != nil)
            if kind == "user", !byDirectory, fields["userId"] == nil, fields["aadObjectId"] == nil {
                missing.append("userId, aadObjectId, email or upn")
            }
            if byDirectory, fields["tenantId"] == nil {
                missing.append("tenantId (the directory to look the person up in)")
            }
            if kind == "channel", fields["channelId"] == nil, fields["channelName"] == nil {
                missing.append("channelId or channelName")
            }
            if kind == "channel", fields["channelName"] != nil, fields["teamId"] == nil {
                missing.append("teamId (the team whose channel is named)")
            }
            if !missing.isEmpty {
                problem(value, "\(itemLabel).\(kind)", "missing \(missing.joined(separator: ", "))")
                continue
            }
            if let conflict = Self.conflictingFields(kind, fields) {
                problem(value, "\(itemLabel).\(kind)", conflict)
                continue
            }
            func f(_ key: String) -> TextTemplate? { fields[key].flatMap { text($0, "\(itemLabel).\(kind).\(key)") } }
            let before = problems.count
            let recipient: RecipientTemplate
            switch kind {
            case "user" where byDirectory:
                recipient = .person(email: f("email"), upn: f("upn"), tenantId: f("tenantId"))
            case "user": recipient = .user(userId: f("userId"), aadObjectId: f("aadObjectId"), tenantId: f("tenantId"))
            case "group": recipient = .group(id: f("id") ?? TextTemplate(literal: ""), tenantId: f("tenantId"))
            case "channel" where fields["channelName"] != nil:
                recipient = .namedChannel(
                    teamId: f("teamId") ?? TextTemplate(literal: ""),
                    channelName: f("channelName") ?? TextTemplate(literal: ""), tenantId: f("tenantId"))
            case "conversation":
                recipient = .conversation(
                    id: f("id") ?? TextTemplate(literal: ""), serviceUrl: f("serviceUrl"), tenantId: f("tenantId"))
            case "channel":
                recipient = .channel(
                    teamId: f("teamId"), channelId: f("channelId") ?? TextTemplate(literal: ""),
                    tenantId: f("tenantId"),
                    threadId: f("threadId"))
            default: recipient = .teamMembers(teamId: f("teamId") ?? TextTemplate(literal: ""), tenantId: f("tenantId"))
            }
            if problems.count == before { out.append(recipient) }
        }
        return out
    }

    /// Fields of one recipient that cannot go together, as a problem's message.
    static func conflictingFields(_ kind: String, _ fields: Node.Mapping) -> String? {
        func given(_ keys: [String]) -> [String] { keys.filter { fields[$0] != nil } }
        switch kind {
        case "user":
            let directory = given(["email", "upn"])
            if directory.count > 1 { return "give either email or upn, not both" }
            if !directory.isEmpty, !given(["userId", "aadObjectId"]).isEmpty {
                return "\(directory[0]) names the person already: drop userId and aadObjectId"
            }
        case "channel":
            if fields["channelName"] != nil, fields["channelId"] != nil {
                return "give either channelId or channelName, not both"
            }
            if fields["channelName"] != nil, fields["threadId"] != nil {
                return "threadId needs channelId: a reply goes to a thread of a known channel"
            }
        default: break
        }
        return nil
    }

    mutating func loadMessage(
        _ node: Node?, parent: Node, label: String, roots: Set<String> = NotificationEvent.rootNames
    ) -> MessageTemplate? {
        guard let node else {
            problem(parent, label, "message is required (card: or text:)")
            return nil
        }
        guard let m = node.mapping else {
            problem(node, label, "expected a map with card or text, summary, alert")
            return nil
        }
        unknownKeys(m, allowed: ["card", "text", "cardsByType", "summary", "alert", "locales"], label: label)
        var body: MessageTemplate.Body?
        switch (m["card"], m["text"]) {
        case (let c?, nil):
            if let card = cardTemplate(c, label: label + ".card", roots: roots) { body = .card(card) }
        case (nil, let t?):
            if let text = text(t, label + ".text", roots: roots) { body = .text(text) }
        case (.some, .some):
            problem(node, label, "give either card or text, not both")
        case (nil, nil):
            if m["cardsByType"] == nil { problem(node, label, "card or text is required") }
        }
        var cardsByType: [String: CardTemplate] = [:]
        if let byType = m["cardsByType"] {
            if let bm = byType.mapping {
                for (k, v) in bm {
                    if let card = cardTemplate(v, label: "\(label).cardsByType.\(k.string ?? "")", roots: roots) {
                        cardsByType[k.string ?? ""] = card
                    }
                }
                if body == nil, m["card"] == nil, m["text"] == nil {
                    problem(byType, label, "cardsByType needs a default card or text for other event types")
                }
            } else {
                problem(byType, label + ".cardsByType", "expected a map of event type to card template file")
            }
        }
        let summary = text(m["summary"], label + ".summary", roots: roots)
        var alert = false
        if let a = m["alert"] {
            if let b = a.bool { alert = b } else { problem(a, label + ".alert", "expected true or false") }
        }
        guard let body else { return nil }
        let locales = loadLocales(m["locales"], defaultBody: body, label: label + ".locales", roots: roots)
        return MessageTemplate(
            body: body, cardsByType: cardsByType, summary: summary, alert: alert, locales: locales)
    }

    /// `message.locales`: tag → a card file (or, for a text message, the text), or a map of `card`/`text` and
    /// `summary`.
    mutating func loadLocales(
        _ node: Node?, defaultBody: MessageTemplate.Body, label: String, roots: Set<String>
    ) -> [LocalizedTemplate] {
        guard let node else { return [] }
        guard let m = node.mapping, !m.isEmpty else {
            problem(node, label, "expected a map of locale (de, pt-BR) to a card file, a text or {card|text, summary}")
            return []
        }
        var out: [LocalizedTemplate] = []
        var seen = Set<String>()
        for (key, value) in m {
            let tag = key.string ?? ""
            let itemLabel = "\(label).\(tag)"
            guard LocaleMatch.isWellFormed(tag) else {
                problem(key, label, "\"\(tag.prefix(40))\" is not a locale tag (use e.g. de, de-AT, pt-BR)")
                continue
            }
            guard seen.insert(LocaleMatch.normalized(tag)).inserted else {
                problem(key, label, "locale \(tag) is given twice")
                continue
            }
            if value.mapping == nil {
                switch defaultBody {
                case .card:
                    if let card = cardTemplate(value, label: itemLabel, roots: roots) {
                        out.append(LocalizedTemplate(tag: tag, body: .card(card), summary: nil))
                    }
                case .text:
                    if let text = text(value, itemLabel, roots: roots) {
                        out.append(LocalizedTemplate(tag: tag, body: .text(text), summary: nil))
                    }
                }
                continue
            }
            let fields = value.mapping!
            unknownKeys(fields, allowed: ["card", "text", "summary"], label: itemLabel)
            var body: MessageTemplate.Body?
            switch (fields["card"], fields["text"]) {
            case (let c?, nil): body = cardTemplate(c, label: itemLabel + ".card", roots: roots).map { .card($0) }
            case (nil, let t?): body = text(t, itemLabel + ".text", roots: roots).map { .text($0) }
            case (.some, .some):
                problem(value, itemLabel, "give either card or text, not both")
                continue
            case (nil, nil): break
            }
            let summary = text(fields["summary"], itemLabel + ".summary", roots: roots)
            if body == nil, summary == nil {
                if fields.isEmpty { problem(value, itemLabel, "give card, text or summary") }
                continue
            }
            out.append(LocalizedTemplate(tag: tag, body: body, summary: summary))
        }
        return out.sorted { $0.tag < $1.tag }
    }

    /// Loads and compiles a card template once, however many routes use it; problems name the template file.
    /// Paths start at `roots`: the event's, or a pressed button's for an answer card.
    mutating func cardTemplate(
        _ node: Node, label: String, roots: Set<String> = NotificationEvent.rootNames
    ) -> CardTemplate? {
        guard let path = node.string, !path.isEmpty else {
            problem(node, label, "expected the path of a card template file")
            return nil
        }
        let (name, bytes) = readTemplate(path)
        let card: CardTemplate
        if let cached = templateCache[name] {
            guard let cached else { return nil }
            card = cached
        } else {
            guard let bytes else {
                problem(
                    node, label, "cannot read the template file \"\(path)\" (paths are relative to the routes file)")
                templateCache[name] = .some(nil)
                return nil
            }
            do {
                card = try CardTemplate(json: bytes)
            } catch {
                problem(nil, error.location, error.message, file: name)
                templateCache[name] = .some(nil)
                return nil
            }
            templateCache[name] = card
        }
        if checkedTemplatePaths.insert([name] + roots.sorted()).inserted {
            for (location, expression, inRepetition) in card.expressions where !inRepetition {
                checkPaths([expression], nil, location, file: name, roots: roots)
            }
        }
        return card
    }
}
