import Foundation
import Yams

extension ConfigKeyReader {
    /// A secret given inline (`path`) or as a file (`pathFile`, a mounted Kubernetes secret), trailing newline
    /// trimmed. Both at once is a problem. Secrets are never echoed in problems.
    mutating func secret(_ path: String, default defaultValue: String?, baseDirectory: String) -> String {
        let filePath = path + "File"
        let inline = scalar(path)
        let file = scalar(filePath)
        if inline != nil, let file {
            problem(filePath, at: file.node, "set either \(path) or \(filePath), not both")
        }
        if let file {
            let resolved = file.text.hasPrefix("/") ? file.text : baseDirectory + "/" + file.text
            guard let data = FileManager.default.contents(atPath: resolved),
                var text = String(data: data, encoding: .utf8)
            else {
                problem(filePath, at: file.node, "cannot read the file \"\(file.text)\"")
                return ""
            }
            while text.last == "\n" || text.last == "\r" { text.removeLast() }
            if text.isEmpty, defaultValue == nil { problem(filePath, at: file.node, "the file is empty") }
            return text
        }
        if let inline {
            if inline.text.isEmpty, defaultValue == nil { required(path) }  // present but empty
            return inline.text
        }
        if defaultValue == nil {
            problem(
                path, at: nil,
                "required key is missing (set \(path) or \(filePath), or \(Self.environmentName(path)))")
        }
        return defaultValue ?? ""
    }

    /// Reports every key in the file that the configuration does not know, suggesting the nearest known one.
    mutating func reportUnknownKeys() {
        guard let root else { return }
        var stack: [(prefix: String, node: Node)] = [("", root)]
        while let (prefix, node) = stack.popLast() {
            guard let mapping = node.mapping else { continue }
            for (k, v) in mapping {
                let key = k.string ?? "?"
                let path = prefix.isEmpty ? key : prefix + "." + key
                if opaque.contains(path) { continue }
                let isSection = known.contains { $0.hasPrefix(path + ".") }
                if isSection {
                    if v.mapping != nil {
                        stack.append((path, v))
                    } else if !(v.scalar.map { $0.string.isEmpty || $0.string == "~" } ?? false) {
                        problem(path, at: v, "expected a map (section)")
                    }
                } else if !known.contains(path) {
                    let hint = Self.nearest(path, in: known).map { " (did you mean \($0)?)" } ?? ""
                    problem(path, at: k, "unknown key\(hint)")
                }
            }
        }
        problems.sort { ($0.file, $0.line ?? 0) < ($1.file, $1.line ?? 0) }
    }

    static func nearest(_ path: String, in candidates: Set<String>) -> String? {
        var best: (String, Int)?
        for candidate in candidates {
            let d = editDistance(Array(path.lowercased()), Array(candidate.lowercased()))
            if d <= max(2, path.count / 4), d < (best?.1 ?? .max) { best = (candidate, d) }
        }
        return best?.0
    }

    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
