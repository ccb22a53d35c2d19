import Foundation
import FuzzChecks
import Testing

/// Every committed seed (Fuzz/Corpus/TARGET) and every input a fuzzer once broke Herald with (Fuzz/Regressions/TARGET,
/// named after what it found) passes its target's checks in the ordinary suite, without a fuzzer.
@Suite("Fuzz corpora and regressions")
struct CorpusReplayTests {
    static let fuzzFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    static func inputs(_ kind: String, _ target: FuzzTarget) -> [URL] {
        let folder = fuzzFolder.appendingPathComponent(kind).appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { folder.appendingPathComponent($0) }
    }

    @Test(
        "every target has seeds, and each seed and each earlier finding passes its checks",
        arguments: FuzzTarget.allCases)
    func replay(target: FuzzTarget) throws {
        let seeds = Self.inputs("Corpus", target)
        #expect(seeds.count >= 3, "Fuzz/Corpus/\(target.rawValue) holds seeds")
        for url in seeds + Self.inputs("Regressions", target) {
            let bytes = [UInt8](try Data(contentsOf: url))
            #expect(throws: Never.self, "\(url.lastPathComponent)") { try target.check(bytes) }
        }
    }
}
