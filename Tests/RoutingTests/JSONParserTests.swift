import HeraldJSON
import Testing

@testable import Routing

@Suite struct JSONParserTests {
    @Test func parsesEveryKindInOrder() throws {
        let v = try JSONParser.parse(#"{"b":1,"a":[true,false,null,-2.5e2,"x\u00e9\ud83d\ude00\n"],"c":{}}"#)
        guard case .object(let members) = v else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["b", "a", "c"])
        #expect(v["a"] == [true, false, nil, -250.0, "xé😀\n"])
        #expect(v["c"] == .object([]))
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "{'a':1}", "01", "1.", "-", "tru", "\"\\x\"", "\"a", "[1] x", "\"\u{01}\"",
        "\"\\ud800\"", "NaN", "{\"a\":1,}",
    ])
    func rejectsInvalidJSON(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xFF, 0xFE, 0x22]) }
    }

    @Test func boundsNestingDepth() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let error = #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        #expect(error?.message.contains("nesting") == true)
    }

    @Test func errorsNameLineAndColumn() {
        let error = #expect(throws: JSONParseError.self) { try JSONParser.parse("{\n  \"a\": 1,\n  oops\n}") }
        #expect(error?.line == 3)
        #expect(error?.column == 3)
    }

    @Test func writerEscapesSoTextRoundTrips() throws {
        let hostile = "quote\" backslash\\ newline\n tab\t nul\u{0} brace} ${data.x} 😀"
        var out: [UInt8] = []
        JSONWriter.appendString(hostile, to: &out)
        #expect(try JSONParser.parse(out) == .string(hostile))
        #expect(String(decoding: out, as: UTF8.self).contains("\\u0000"))
    }

    @Test func numbersPrintWithoutNeedlessFractions() {
        #expect(JSONWriter.formatNumber(3) == "3")
        #expect(JSONWriter.formatNumber(-42) == "-42")
        #expect(JSONWriter.formatNumber(2.5) == "2.5")
        #expect(JSONWriter.formatNumber(1e300) == "1e+300")
    }

    @Test func pathsParseAndResolve() throws {
        let v: JSONValue = ["data": ["items": [["name": "a"], ["name": "b"]], "we ird": 1]]
        #expect(JSONPath(parsing: "data.items[1].name")?.resolve(in: v) == "b")
        #expect(JSONPath(parsing: "data['we ird']")?.resolve(in: v) == 1)
        #expect(JSONPath(parsing: "data.items[5]")?.resolve(in: v) == nil)
        for bad in ["", "a..b", ".a", "a.", "a[x]", "a[1", "a b"] {
            #expect(JSONPath(parsing: bad) == nil, "\(bad)")
        }
    }
}
