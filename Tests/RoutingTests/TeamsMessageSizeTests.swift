import HeraldJSON
import Testing

@testable import Routing

/// Teams counts a message "encoded as UTF-16" without base64 images; so do the renderer's limits.
@Suite("Message size as Teams counts it")
struct TeamsMessageSizeTests {
    func size(_ json: String) -> Int { TeamsMessageSize.of(json: Array(json.utf8)) }

    @Test("two bytes per UTF-16 code unit: ASCII doubles, CJK shrinks, emoji are surrogate pairs")
    func countsUTF16() {
        #expect(size(#"{"text":"hello"}"#) == 16 * 2)
        let cjk = String(repeating: "漢", count: 1000)  // 3,000 UTF-8 bytes
        #expect(size(#""\#(cjk)""#) == 1002 * 2)
        let emoji = String(repeating: "🎉", count: 1000)  // 4,000 UTF-8 bytes
        #expect(size(#""\#(emoji)""#) == 2002 * 2)
        for text in ["é, ü and ß", "mixed 漢字 and 🎉🎉 and a\\\"quote", "\u{10FFFF}\u{7F}\u{80}\u{7FF}\u{800}\u{FFFF}"] {
            #expect(size(text) == text.utf16.count * 2, "\(text)")
        }
    }

    @Test("base64 data URLs are left out; other data URLs and escaped look-alikes are counted")
    func leavesOutBase64Images() {
        let image = "data:image/png;base64," + String(repeating: "QUJD", count: 10_000)
        let card = #"{"type":"Image","url":"\#(image)","altText":"chart"}"#
        #expect(size(card) == size(#"{"type":"Image","url":"","altText":"chart"}"#))
        let plain = #"{"url":"data:text/plain,\#(String(repeating: "a", count: 100))"}"#
        #expect(size(plain) == plain.utf16.count * 2)
        // Inside another string, the look-alike is text.
        let inside = #"{"text":"say \"data:image/png;base64,QUJD\" please"}"#
        #expect(size(inside) == inside.utf16.count * 2)
        let escaped = #"{"url":"data:image\/png;base64,QUJD"}"#
        #expect(size(escaped) == escaped.utf16.count * 2)
    }

    func card(texts: [String]) throws -> CardTemplate {
        let blocks = texts.indices.map { #"{"type":"TextBlock","text":"${data.t\#($0)}"}"# }.joined(separator: ",")
        return try CardTemplate(json: Array(#"{"type":"AdaptiveCard","version":"1.5","body":[\#(blocks)]}"#.utf8))
    }

    func render(_ texts: [String], limits: RenderLimits = RenderLimits()) throws(TemplateError) -> [UInt8] {
        let data = texts.enumerated().map { JSONMember("t\($0.offset)", .string($0.element)) }
        let template = try! card(texts: texts)
        return try template.render(for: Fixtures.event(data: .object(data)), limits: limits)
    }

    @Test("the default card limit is 80 KB as Teams counts it: 41 KB of ASCII is over, 38 KB is not")
    func defaultLimitCountsAsTeamsDoes() throws {
        #expect(RenderLimits().maxMessageBytes == 80 * 1024)
        let over = [String(repeating: "a", count: 20_500), String(repeating: "b", count: 20_500)]
        let error = #expect(throws: TemplateError.self) { try render(over) }
        #expect(error?.code == .messageTooLarge)
        let under = [String(repeating: "a", count: 19_000), String(repeating: "b", count: 19_000)]
        let rendered = try render(under)
        #expect(rendered.count < 40 * 1024)
        #expect(TeamsMessageSize.of(json: rendered) <= 80 * 1024)
    }

    @Test("cards on both sides of a limit, with ASCII, CJK and emoji content")
    func bothSidesOfALimit() throws {
        let limits = RenderLimits(maxMessageBytes: 8192)
        let cases: [(text: String, fits: Bool)] = [
            (String(repeating: "a", count: 3900), true),  // 3.9 KB UTF-8, 7.9 KB as Teams counts
            (String(repeating: "a", count: 4100), false),  // 4.1 KB UTF-8: under 8 KB in UTF-8, over as Teams counts
            (String(repeating: "漢", count: 3900), true),  // 11.7 KB UTF-8, 7.9 KB as Teams counts
            (String(repeating: "漢", count: 4100), false),
            (String(repeating: "🎉", count: 1950), true),  // 7.8 KB either way
            (String(repeating: "🎉", count: 2050), false),
        ]
        for (text, fits) in cases {
            if fits {
                let rendered = try render([text], limits: limits)
                #expect(TeamsMessageSize.of(json: rendered) <= 8192, "\(text.prefix(1)) × \(text.count)")
            } else {
                let error = #expect(throws: TemplateError.self, "\(text.prefix(1)) × \(text.count)") {
                    try render([text], limits: limits)
                }
                #expect(error?.code == .messageTooLarge)
            }
        }
    }

    @Test("a text message is bounded as Teams counts it")
    func textBoundedAsTeamsCounts() throws {
        let template = try TextTemplate("${data.t}")
        let limits = RenderLimits(maxMessageBytes: 8192)
        let ascii = Fixtures.event(data: ["t": .string(String(repeating: "a", count: 4100))])
        let error = #expect(throws: TemplateError.self) {
            try template.render(in: EvaluationScope(event: ascii), limits: limits)
        }
        #expect(error?.code == .messageTooLarge)
        let cjk = Fixtures.event(data: ["t": .string(String(repeating: "漢", count: 4000))])
        #expect(try template.render(in: EvaluationScope(event: cjk), limits: limits).count == 4000)
    }
}
