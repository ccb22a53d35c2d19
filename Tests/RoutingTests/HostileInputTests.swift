import Foundation
import HeraldJSON
import TestSupport
import Testing

@testable import Routing

/// Randomised but reproducible (fixed seed) checks that hostile bytes never crash decoding or rendering.
@Suite struct HostileInputTests {

    static func randomValue(depth: Int, using rng: inout SeededRandom) -> JSONValue {
        let pick = Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &rng)
        switch pick {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .number(Double(Int.random(in: -1_000_000...1_000_000, using: &rng)) / 8)
        case 3:
            let scalars = (0..<Int.random(in: 0..<12, using: &rng)).map { _ in
                Unicode.Scalar(UInt32.random(in: 0..<0x3000, using: &rng)).map(Character.init) ?? "x"
            }
            return .string(String(scalars) + "\"\\${data.x}}")
        case 4:
            return .array(
                (0..<Int.random(in: 0..<5, using: &rng)).map { _ in randomValue(depth: depth + 1, using: &rng) })
        default:
            return .object(
                (0..<Int.random(in: 0..<5, using: &rng)).map {
                    JSONMember("k\($0)\"", randomValue(depth: depth + 1, using: &rng))
                })
        }
    }

    @Test func writerOutputAlwaysParsesBackToTheSameValue() throws {
        var rng = SeededRandom(seed: 42)
        for _ in 0..<2000 {
            let value = Self.randomValue(depth: 0, using: &rng)
            #expect(try JSONParser.parse(JSONWriter.encode(value)) == value)
        }
    }

    @Test func mutatedEventsNeverCrashTheDecoder() {
        var rng = SeededRandom(seed: 7)
        let original = Array(
            #"{"specversion":"1.0","id":"1","type":"t","source":"/s","time":"2025-01-01T00:00:00Z","data":{"a":[1,"\u00e9",{"b":null}],"herald":{"action":"send"}}}"#
                .utf8)
        var decoded = 0
        for _ in 0..<5000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[i] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes.remove(at: i)
                default: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: i)
                }
            }
            let record = InboundRecord(topic: "t", partition: 0, offset: 0, value: bytes)
            if (try? EventDecoder().decode(record)) != nil { decoded += 1 }
        }
        #expect(decoded > 0, "some mutations stay valid")
        #expect(decoded < 5000, "most mutations are rejected with a typed reason")
    }

    @Test func randomEventDataRendersValidJSONWithTheTemplatesStructure() throws {
        var rng = SeededRandom(seed: 99)
        let template = try CardTemplate(
            json: Array(
                #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"${data.a} ${data.b}","#
                    .utf8)
                + Array(#""$when":"${data.c}"},{"type":"FactSet","$data":"${data.list}","title":"${$data}"}]}"#.utf8))
        for _ in 0..<1000 {
            let data: JSONValue = [
                "a": Self.randomValue(depth: 0, using: &rng), "b": Self.randomValue(depth: 0, using: &rng),
                "c": Self.randomValue(depth: 3, using: &rng), "list": Self.randomValue(depth: 2, using: &rng),
            ]
            let out = try template.render(for: Fixtures.event(data: data))
            let parsed = try JSONParser.parse(out)
            guard case .array(let body)? = parsed["body"] else {
                Issue.record("body is not an array")
                continue
            }
            for element in body {
                guard case .object(let members) = element else {
                    Issue.record("element is not an object")
                    continue
                }
                #expect(members.allSatisfy { ["type", "text", "title"].contains($0.key) })
            }
        }
    }
}
