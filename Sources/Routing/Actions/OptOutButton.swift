import HeraldJSON

/// Herald's "Stop these notifications" button, added to the end of a card's `actions` for routes with
/// `optOut: true`: an `Action.Execute` with verb ``CardVerb/optOut`` on cards of version 1.4 and higher, an
/// `Action.Submit` with `data.verb` ``CardVerb/optOut`` below.
public struct OptOutButton: Sendable, Hashable {
    /// Default: "Stop these notifications".
    public var title: String

    public init(title: String = "Stop these notifications") {
        self.title = title
    }

    /// The button's JSON with `herald` (a `"herald":{...}` member) in its data; `slot` moves with it.
    func encoded(execute: Bool, herald: [UInt8], slot: Int?) -> (bytes: [UInt8], slot: Int?) {
        var out: [UInt8] = []
        out.reserveCapacity(96 + title.utf8.count + herald.count)
        out.append(
            contentsOf: (execute ? #"{"type":"Action.Execute","title":"# : #"{"type":"Action.Submit","title":"#).utf8)
        JSONWriter.appendString(title, to: &out)
        if execute {
            out.append(contentsOf: #","verb":"#.utf8)
            JSONWriter.appendString(CardVerb.optOut, to: &out)
            out.append(contentsOf: #","data":{"#.utf8)
        } else {
            out.append(contentsOf: #","data":{"verb":"#.utf8)
            JSONWriter.appendString(CardVerb.optOut, to: &out)
            out.append(UInt8(ascii: ","))
        }
        let heraldStart = out.count
        out.append(contentsOf: herald)
        out.append(contentsOf: "}}".utf8)
        return (out, slot.map { heraldStart + $0 })
    }
}
