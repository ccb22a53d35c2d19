import Foundation
import HeraldJSON
import Routing

/// A card template rendered with any event data: the card is valid JSON and has the template's structure. Event
/// data fills string values (or, for a value that is exactly `${...}`, a number or boolean) and can never add,
/// remove or reshape anything else.
///
/// Input: the event's `data.v` (the bytes as JSON, else as a string); `data.s` is always the bytes as a string.
enum TemplateCheck {
    static let source = #"""
        {
          "type": "AdaptiveCard",
          "version": "1.5",
          "body": [
            {"type": "TextBlock", "text": "Ticket ${data.v.id}: ${data.v.title}", "wrap": true},
            {"type": "TextBlock", "text": "${data.s}"},
            {"type": "TextBlock", "text": "${data.v}", "isVisible": "${data.v.flag}"},
            {"type": "FactSet", "facts": [
              {"title": "Priority", "value": "${toUpper(data.v.priority)}"},
              {"title": "Items", "value": "${join(data.v.items, ', ')}"},
              {"title": "Count", "value": "${count(data.v.items)}"},
              {"title": "First", "value": "${data.v.items[0]}"},
              {"title": "Either", "value": "${coalesce(data.v.missing, data.v.name, 'none')}"},
              {"title": "Both", "value": "${concat(data.v.a, '/', data.v.b)}"},
              {"title": "Choice", "value": "${if(data.v.n > 3, 'many', 'few')}"}
            ]},
            {"type": "Image", "url": "${data.v.url}", "altText": "${toLower(data.s)}"}
          ],
          "actions": [
            {"type": "Action.Execute", "title": "Acknowledge", "verb": "herald.ack", "data": {"ticket": "${data.v.id}"}},
            {"type": "Action.OpenUrl", "title": "Open", "url": "${data.v.url}"}
          ]
        }
        """#
    static let template: CardTemplate = {
        do throws(TemplateError) {
            return try CardTemplate(json: Array(source.utf8))
        } catch {
            fatalError("the fuzz template does not compile: \(error)")
        }
    }()
    nonisolated(unsafe) static let shape: Any = try! JSONSerialization.jsonObject(with: Data(source.utf8))

    static func check(_ bytes: [UInt8]) throws(PropertyViolation) {
        let text = String(decoding: bytes, as: UTF8.self)
        let value = (try? JSONParser.parse(bytes)) ?? .string(text)
        let event = NotificationEvent(
            id: "fuzz", type: "fuzz.template", source: "fuzz",
            data: .object([JSONMember("v", value), JSONMember("s", .string(text))]))
        let card: [UInt8]
        do throws(TemplateError) {
            card = try template.render(for: event)
        } catch {
            // Too large, too many repetitions: refused with a reason, which is fine.
            guard !error.message.isEmpty else { throw PropertyViolation(.template, "a refusal without a reason") }
            return
        }
        guard let rendered = try? JSONSerialization.jsonObject(with: Data(card)) else {
            throw PropertyViolation(.template, "the card is not JSON for \(excerpt(bytes)): \(excerpt(card))")
        }
        guard (try? JSONParser.parse(card)) != nil else {
            throw PropertyViolation(.template, "Herald cannot read its own card for \(excerpt(bytes))")
        }
        if let difference = sameShape(shape, rendered, path: "$") {
            throw PropertyViolation(.template, "the card's structure changed at \(difference) for \(excerpt(bytes))")
        }
    }

    /// Where `rendered` leaves the template's structure, or nil. A string with a binding may become any string,
    /// number or boolean; everything else must be exactly as written.
    static func sameShape(_ template: Any, _ rendered: Any, path: String) -> String? {
        switch template {
        case let object as [String: Any]:
            guard let other = rendered as? [String: Any], Set(other.keys) == Set(object.keys) else {
                return "\(path) (members)"
            }
            for (key, value) in object {
                if let difference = sameShape(value, other[key]!, path: "\(path).\(key)") { return difference }
            }
            return nil
        case let array as [Any]:
            guard let other = rendered as? [Any], other.count == array.count else { return "\(path) (elements)" }
            for (index, value) in array.enumerated() {
                if let difference = sameShape(value, other[index], path: "\(path)[\(index)]") { return difference }
            }
            return nil
        case let text as String where text.contains("${"):
            return rendered is String || rendered is NSNumber ? nil : "\(path) (a binding became a structure)"
        case let text as String:
            return (rendered as? String) == text ? nil : "\(path) (a literal changed)"
        default:
            return (rendered as? NSNumber) == (template as? NSNumber) ? nil : "\(path) (a literal changed)"
        }
    }
}
