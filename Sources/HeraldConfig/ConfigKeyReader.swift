import Yams

/// Reads typed values by key path from a YAML tree, letting `HERALD_*` variables override them, and
/// collects every problem (with line and column) instead of stopping at the first. Named apart from
/// swift-configuration's `ConfigReader`, which a reader of Herald may know: this one is not it.
struct ConfigKeyReader {
    let file: String
    let root: Node?
    let environment: [String: String]
    var problems: [ConfigProblem] = []
    /// Every key path the configuration knows; `opaque` ones (maps passed through) are not looked into.
    var known: Set<String> = []
    var opaque: Set<String> = []

    init(file: String, root: Node?, environment: [String: String]) {
        self.file = file
        self.root = root
        self.environment = environment
    }

    /// `delivery.rateLimits.perTenantPerSecond` -> `HERALD_DELIVERY_RATE_LIMITS_PER_TENANT_PER_SECOND`.
    static func environmentName(_ path: String) -> String {
        var out = "HERALD_"
        var previousLower = false
        for c in path {
            if c == "." {
                out += "_"
                previousLower = false
            } else if c.isUppercase {
                if previousLower { out += "_" }
                out += String(c)
                previousLower = false
            } else {
                out += c.uppercased()
                previousLower = c.isLowercase || c.isNumber
            }
        }
        return out
    }

    func node(_ path: String) -> Node? {
        var current = root
        for key in path.split(separator: ".") {
            guard let mapping = current?.mapping else { return nil }
            current = mapping[Node(String(key))]
        }
        return current
    }

    mutating func problem(_ path: String, at node: Node?, _ message: String) {
        if node == nil, let env = environment[Self.environmentName(path)], !env.isEmpty {
            problems.append(ConfigProblem(file: "environment", path: Self.environmentName(path), message: message))
            return
        }
        problems.append(
            ConfigProblem(file: file, line: node?.mark?.line, column: node?.mark?.column, path: path, message: message))
    }

    enum Raw {
        case environment(String)
        case node(Node)
    }

    /// The value at `path`: the environment variable if set, else the YAML node (nil when absent or null).
    mutating func raw(_ path: String) -> Raw? {
        known.insert(path)
        if let value = environment[Self.environmentName(path)] { return .environment(value) }
        guard let node = node(path) else { return nil }
        if case .scalar(let s) = node, s.style == .plain, ["", "~", "null"].contains(s.string) { return nil }
        return .node(node)
    }

    /// A scalar as text; nil (and a problem) for a list or map.
    mutating func scalar(_ path: String) -> (text: String, node: Node?)? {
        switch raw(path) {
        case nil: return nil
        case .environment(let s)?: return (s, nil)
        case .node(let n)?:
            guard case .scalar(let s) = n else {
                problem(path, at: n, "expected a single value, not a \(n.mapping != nil ? "map" : "list")")
                return nil
            }
            return (s.string, n)
        }
    }

    mutating func required(_ path: String) {
        problem(
            path, at: nil,
            "required key is missing (set \(path) in the file or \(Self.environmentName(path)) in the environment)")
    }

    /// A string; `default: nil` makes the key required.
    mutating func string(_ path: String, default defaultValue: String?) -> String {
        if let found = scalar(path) {
            if !found.text.isEmpty || defaultValue != nil { return found.text }
            required(path)  // present but empty
        } else if defaultValue == nil, node(path)?.mapping == nil, node(path)?.sequence == nil {
            required(path)  // absent; a map or list here was already reported as a type error
        }
        return defaultValue ?? ""
    }

    mutating func int(_ path: String, default defaultValue: Int, range: ClosedRange<Int>) -> Int {
        guard let (text, node) = scalar(path) else { return defaultValue }
        guard let value = Int(text) else {
            problem(path, at: node, "expected a whole number, got \"\(text)\"")
            return defaultValue
        }
        guard range.contains(value) else {
            problem(path, at: node, "\(value) is out of range \(range.lowerBound)...\(range.upperBound)")
            return defaultValue
        }
        return value
    }

    mutating func bool(_ path: String, default defaultValue: Bool) -> Bool {
        guard let (text, node) = scalar(path) else { return defaultValue }
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default:
            problem(path, at: node, "expected true or false, got \"\(text)\"")
            return defaultValue
        }
    }

    mutating func duration(_ path: String, default defaultValue: Duration) -> Duration {
        guard let (text, node) = scalar(path) else { return defaultValue }
        guard let value = DurationParser.parse(text) else {
            problem(path, at: node, "\"\(text)\" is not a duration (use e.g. 500ms, 30s, 5m, 24h)")
            return defaultValue
        }
        return value
    }

    mutating func choice<E: RawRepresentable & CaseIterable>(_ path: String, default defaultValue: E) -> E
    where E.RawValue == String {
        guard let (text, node) = scalar(path) else { return defaultValue }
        guard let value = E(rawValue: text) else {
            let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
            problem(path, at: node, "\"\(text)\" is not one of \(allowed)")
            return defaultValue
        }
        return value
    }

    /// A list of strings; from the environment, comma-separated.
    mutating func stringList(_ path: String, default defaultValue: [String]?) -> [String] {
        switch raw(path) {
        case nil:
            if defaultValue == nil { required(path) }
            return defaultValue ?? []
        case .environment(let s)?:
            return s.split(separator: ",").map { String($0).trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
        case .node(let n)?:
            if case .scalar(let s) = n { return [s.string] }
            guard let sequence = n.sequence else {
                problem(path, at: n, "expected a list of strings")
                return defaultValue ?? []
            }
            var out: [String] = []
            for item in sequence {
                guard case .scalar(let s) = item else {
                    problem(path, at: item, "expected a list of strings")
                    continue
                }
                out.append(s.string)
            }
            return out
        }
    }

    /// A map of strings passed through as-is; from the environment, `k=v,k=v`.
    mutating func stringMap(_ path: String) -> [String: String] {
        opaque.insert(path)
        switch raw(path) {
        case nil: return [:]
        case .environment(let s)?:
            var out: [String: String] = [:]
            for pair in s.split(separator: ",") {
                guard let eq = pair.firstIndex(of: "=") else {
                    problem(path, at: nil, "expected key=value pairs separated by commas")
                    continue
                }
                out[String(pair[..<eq]).trimmingCharacters(in: " ")] = String(pair[pair.index(after: eq)...])
            }
            return out
        case .node(let n)?:
            guard let mapping = n.mapping else {
                problem(path, at: n, "expected a map of strings")
                return [:]
            }
            var out: [String: String] = [:]
            for (k, v) in mapping {
                guard case .scalar(let key) = k, case .scalar(let value) = v else {
                    problem(path, at: v, "expected a map of strings")
                    continue
                }
                out[key.string] = value.string
            }
            return out
        }
    }
}
