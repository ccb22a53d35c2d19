import Yams

extension ConfigKeyReader {
    /// `teams`, or a list of `{count, seconds}`; from the environment `teams` or `7/1,8/2`.
    mutating func conversationLimits(_ path: String) -> HeraldConfiguration.Delivery.ConversationLimits {
        opaque.insert(path)
        typealias Window = HeraldConfiguration.Delivery.Window
        switch raw(path) {
        case nil: return .teams
        case .environment(let s)?:
            if s == "teams" { return .teams }
            var windows: [Window] = []
            for part in s.split(separator: ",") {
                let pieces = part.split(separator: "/")
                guard pieces.count == 2, let count = Int(pieces[0]), let seconds = Double(pieces[1]), count > 0,
                    seconds > 0, seconds <= 86_400
                else {
                    problem(path, at: nil, "expected teams or COUNT/SECONDS pairs like 7/1,60/30")
                    return .teams
                }
                windows.append(Window(count: count, seconds: seconds))
            }
            return .windows(windows)
        case .node(let n)?:
            if case .scalar(let s) = n {
                if s.string == "teams" { return .teams }
                problem(path, at: n, "expected teams or a list of {count, seconds}")
                return .teams
            }
            guard let sequence = n.sequence, !sequence.isEmpty else {
                problem(path, at: n, "expected teams or a list of {count, seconds}")
                return .teams
            }
            var windows: [Window] = []
            for item in sequence {
                guard let m = item.mapping, let count = m["count"]?.int, let seconds = m["seconds"]?.float,
                    count > 0, seconds > 0, seconds <= 86_400, m.count == 2
                else {
                    problem(path, at: item, "each window must be {count: N, seconds: S}, N > 0, 0 < S <= 86400")
                    continue
                }
                windows.append(Window(count: count, seconds: seconds))
            }
            return .windows(windows)
        }
    }
}
