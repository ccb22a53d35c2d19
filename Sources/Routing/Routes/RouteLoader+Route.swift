import Foundation
import HeraldConfig
import HeraldJSON
import Yams

extension RouteLoader {
    mutating func loadRoute(_ node: Node, label: String) -> Route? {
        guard let m = node.mapping else {
            problem(node, label, "a route must be a map")
            return nil
        }
        let before = problems.count
        unknownKeys(m, allowed: Self.routeKeys, label: label)
        var name = ""
        if let n = m["name"], case .scalar(let s) = n {
            name = s.string
            let allowed = name.utf8.allSatisfy {
                ($0 < 0x80 && JSONPath.isIdentifierByte($0) && $0 != UInt8(ascii: "$")) || $0 == UInt8(ascii: ".")
            }
            if name.isEmpty || !allowed || name.utf8.count > 128 {
                problem(n, label, "a route name is 1 to 128 of letters, digits, '-', '_', '.' and '@'")
            }
        } else {
            problem(m["name"] ?? node, label, "name is required")
        }
        var isCatchAll = false
        if let c = m["catchAll"] {
            guard let b = c.bool else {
                problem(c, label + " catchAll", "expected true or false")
                return nil
            }
            isCatchAll = b
        }
        var type: Glob?
        var source: Glob?
        var predicates: [Predicate] = []
        if let match = m["match"] {
            (type, source, predicates) = loadMatch(match, label: label + " match")
            if type == nil, !isCatchAll, problems.count == before {
                problem(match, label + " match", "type is required (exact or glob)")
            }
        } else if !isCatchAll {
            problem(node, label, "match is required (or catchAll: true)")
        }
        let recipients = loadRecipients(m["to"], parent: node, label: label + " to")
        let digest = loadDigest(m["digest"], route: m, label: label + " digest")
        let message = loadMessage(
            m["message"], parent: node, label: label + " message",
            roots: digest == nil ? NotificationEvent.rootNames : DigestTemplate.rootNames)
        let notificationKey = text(m["notificationKey"], label + " notificationKey")
        var action: DeliveryAction?
        if let a = m["action"] {
            action = a.string.flatMap(DeliveryAction.init(rawValue:))
            if action == nil { problem(a, label + " action", "must be send, update or delete") }
        }
        var expiresAfter: Duration?
        if let e = m["expiresAfter"] {
            expiresAfter = e.string.flatMap(DurationParser.parse)
            if expiresAfter == nil {
                problem(e, label + " expiresAfter", "\"\(e.string ?? "")\" is not a duration (use e.g. 30m, 6h, 2d)")
            }
        }
        var onUncertain: UncertainDeliveryPolicy?
        if let u = m["onUncertain"] {
            onUncertain = u.string.flatMap(UncertainDeliveryPolicy.init(rawValue:))
            if onUncertain == nil { problem(u, label + " onUncertain", "must be fail or resend") }
        }
        let quietHours = loadQuietHours(m["quietHours"], label: label + " quietHours")
        let deliverAt = text(m["deliverAt"], label + " deliverAt")
        var optOut = false
        if let o = m["optOut"] {
            if let b = o.bool { optOut = b } else { problem(o, label + " optOut", "expected true or false") }
            if optOut, case .text? = message?.body {
                problem(o, label + " optOut", "optOut needs a card message (a text message has no buttons)")
            }
            if optOut, let text = message?.locales.first(where: { if case .text? = $0.body { true } else { false } }) {
                problem(
                    o, label + " optOut",
                    "optOut needs card messages: locale \(text.tag) is a text, which has no buttons to stop them")
            }
        }
        let actions = loadActions(m["actions"], label: label + " actions")
        let locale = text(m["locale"], label + " locale")
        guard problems.count == before, let message else { return nil }
        return Route(
            name: name, type: type, source: source, predicates: predicates, isCatchAll: isCatchAll,
            recipients: recipients, message: message, notificationKey: notificationKey, action: action,
            quietHours: quietHours, expiresAfter: expiresAfter, deliverAt: deliverAt, onUncertain: onUncertain,
            optOut: optOut, actions: actions, locale: locale, digest: digest)
    }

    /// `digest: {mode, window, maxItems, key, minInterval}`; the route's other keys that a digest cannot honour
    /// are problems here.
    mutating func loadDigest(_ node: Node?, route: Node.Mapping, label: String) -> DigestTemplate? {
        guard let node else { return nil }
        guard let m = node.mapping else {
            problem(node, label, "expected a map with mode, window, maxItems, key, minInterval")
            return nil
        }
        let before = problems.count
        unknownKeys(m, allowed: ["mode", "window", "maxItems", "key", "minInterval"], label: label)
        var mode = DigestTemplate.Mode.batch
        if let n = m["mode"] {
            if let parsed = n.string.flatMap(DigestTemplate.Mode.init(rawValue:)) {
                mode = parsed
            } else {
                problem(n, label + ".mode", "must be batch or live")
            }
        }
        func duration(_ key: String) -> Duration? {
            guard let n = m[key] else { return nil }
            guard let value = n.string.flatMap(DurationParser.parse), value > .zero else {
                problem(n, "\(label).\(key)", "\"\(n.string ?? "")\" is not a duration (use e.g. 30s, 10m, 1h)")
                return nil
            }
            return value
        }
        let window = duration("window")
        if m["window"] == nil { problem(node, label, "window is required (how long a digest gathers, e.g. 10m)") }
        if let window, window > .seconds(7 * 86_400) { problem(m["window"], label + ".window", "at most 7d") }
        let minInterval = duration("minInterval") ?? DigestTemplate.defaultMinInterval
        if m["minInterval"] != nil, mode != .live {
            problem(m["minInterval"], label + ".minInterval", "minInterval is for mode: live")
        }
        var maxItems = DigestTemplate.defaultMaxItems
        if let n = m["maxItems"] {
            if let value = n.int, (1...DigestTemplate.maxItemsLimit).contains(value) {
                maxItems = value
            } else {
                problem(n, label + ".maxItems", "expected a whole number from 1 to \(DigestTemplate.maxItemsLimit)")
            }
        }
        let key = text(m["key"], label + ".key")
        for other in ["notificationKey", "action", "deliverAt"] where route[other] != nil {
            problem(
                route[other], label,
                "\(other) does not apply to a digest route: a digest sends (and, live, updates) its own message")
        }
        if let message = route["message"]?.mapping, message["cardsByType"] != nil {
            problem(
                message["cardsByType"], label, "cardsByType does not apply to a digest: its items can be of any type")
        }
        guard problems.count == before, let window else { return nil }
        return DigestTemplate(mode: mode, window: window, maxItems: maxItems, key: key, minInterval: minInterval)
    }

    mutating func loadMatch(_ node: Node, label: String) -> (Glob?, Glob?, [Predicate]) {
        guard let m = node.mapping else {
            problem(node, label, "expected a map with type, source, where")
            return (nil, nil, [])
        }
        unknownKeys(m, allowed: ["type", "source", "where"], label: label)
        func glob(_ key: String) -> Glob? {
            guard let n = m[key] else { return nil }
            do {
                return try Glob(n.string ?? "")
            } catch {
                problem(n, "\(label).\(key)", error.description)
                return nil
            }
        }
        let type = glob("type")
        let source = glob("source")
        var predicates: [Predicate] = []
        if let w = m["where"] {
            if let wm = w.mapping {
                for (k, v) in wm { predicates += loadPredicates(k, v, label: label + ".where") }
            } else {
                problem(w, label + ".where", "expected a map of JSON path to condition")
            }
        }
        return (type, source, predicates)
    }

    mutating func loadPredicates(_ key: Node, _ value: Node, label: String) -> [Predicate] {
        let text = key.string ?? ""
        guard let path = JSONPath(parsing: text) else {
            problem(key, label, "'\(text)' is not a JSON path (like data.priority or data.items[0].kind)")
            return []
        }
        if case .key(let first) = path.segments[0], !NotificationEvent.rootNames.contains(first) {
            problem(
                key, label, "path '\(text)' can never resolve: paths start with data, id, type, source, subject or time"
            )
            return []
        }
        guard let conditions = value.mapping else {
            return [Predicate(path: path, op: .equals(YAMLValue.json(value)))]
        }
        var out: [Predicate] = []
        for (opNode, operand) in conditions {
            let name = opNode.string ?? ""
            let v = YAMLValue.json(operand)
            let op: Predicate.Operator
            switch name {
            case "equals": op = .equals(v)
            case "notEquals": op = .notEquals(v)
            case "in", "notIn":
                guard case .array(let options) = v else {
                    problem(operand, "\(label).\(text).\(name)", "expected a list")
                    continue
                }
                op = name == "in" ? .in(options) : .notIn(options)
            case "exists":
                guard case .bool(let b) = v else {
                    problem(operand, "\(label).\(text).exists", "expected true or false")
                    continue
                }
                op = .exists(b)
            case "gt", "gte", "lt", "lte":
                guard v.numberValue != nil || v.stringValue != nil else {
                    problem(operand, "\(label).\(text).\(name)", "expected a number or string")
                    continue
                }
                op =
                    name == "gt"
                    ? .greaterThan(v)
                    : name == "gte" ? .greaterOrEqual(v) : name == "lt" ? .lessThan(v) : .lessOrEqual(v)
            case "matches":
                do {
                    op = .matches(try Glob(v.stringValue ?? ""))
                } catch {
                    problem(operand, "\(label).\(text).matches", error.description)
                    continue
                }
            default:
                problem(
                    opNode, "\(label).\(text)",
                    "unknown operator '\(name)' (use \(Predicate.Operator.names.joined(separator: ", ")))")
                continue
            }
            out.append(Predicate(path: path, op: op))
        }
        return out
    }

    mutating func loadQuietHours(_ node: Node?, label: String) -> QuietHoursTemplate? {
        guard let node else { return nil }
        guard let m = node.mapping else {
            problem(node, label, "expected {from: \"HH:MM\", to: \"HH:MM\", timeZone: ...}")
            return nil
        }
        unknownKeys(m, allowed: ["from", "to", "timeZone"], label: label)
        func minutes(_ key: String) -> Int? {
            guard let n = m[key], let s = n.string else {
                problem(node, label, "\(key) is required (\"HH:MM\")")
                return nil
            }
            let parts = s.split(separator: ":")
            guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let h = Int(parts[0]),
                let mm = Int(parts[1]),
                (0..<24).contains(h), (0..<60).contains(mm)
            else {
                problem(n, "\(label).\(key)", "\"\(s)\" is not a time of day HH:MM")
                return nil
            }
            return h * 60 + mm
        }
        let from = minutes("from")
        let to = minutes("to")
        let zone = m["timeZone"].flatMap { text($0, label + ".timeZone") } ?? TextTemplate(literal: "UTC")
        if zone.isLiteral, TimeZone(identifier: zone.source) == nil {
            problem(m["timeZone"], label + ".timeZone", "unknown time zone \"\(zone.source)\"")
        }
        guard let from, let to else { return nil }
        return QuietHoursTemplate(from: from, to: to, timeZone: zone)
    }
}
