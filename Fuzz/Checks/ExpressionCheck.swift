import HeraldJSON
import Routing

/// Text templates and their `${...}` expressions: any text compiles or is refused with a reason, and what compiles
/// renders (or is refused with a reason) against an event, without a crash. A template renders its literal text
/// as written.
///
/// Input: the bytes as the template text; the event's data is the bytes as JSON when they are.
enum ExpressionCheck {
    static func check(_ bytes: [UInt8]) throws(PropertyViolation) {
        let text = String(decoding: bytes, as: UTF8.self)
        let data = (try? JSONParser.parse(bytes)) ?? .object([JSONMember("text", .string(text))])
        let event = NotificationEvent(id: "fuzz", type: "fuzz.expression", source: "fuzz", data: data)
        let scope = EvaluationScope(event: event)
        for source in [text, "${" + text + "}"] {
            let template: TextTemplate
            do throws(TemplateError) {
                template = try TextTemplate(source)
            } catch {
                guard !error.message.isEmpty else { throw PropertyViolation(.expression, "a refusal without a reason") }
                continue
            }
            let rendered: String
            do throws(TemplateError) {
                rendered = try template.render(in: scope, limits: RenderLimits())
            } catch {
                guard !error.message.isEmpty else { throw PropertyViolation(.expression, "a refusal without a reason") }
                continue
            }
            if template.isLiteral, rendered != source {
                throw PropertyViolation(.expression, "a literal template rendered as something else: \(excerpt(bytes))")
            }
        }
    }
}
