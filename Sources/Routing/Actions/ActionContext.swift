import HeraldJSON

/// What a route's answer to a pressed button may use (`actions.<verb>` templates): the button's `data`, who
/// pressed it (`actor`: `name`, `aadObjectId`, `id`) and the press (`action`: `verb`, `time`).
public struct ActionContext: Sendable {
    /// The button's data; its `herald` block is not visible to templates.
    public var data: JSONValue
    /// Who pressed the button, from the activity's sender: `{"name":..,"aadObjectId":..,"id":..}`.
    public var actor: JSONValue
    /// The press: `{"verb":..,"time":..}` (`time` in RFC 3339).
    public var action: JSONValue

    public init(data: JSONValue, actor: JSONValue, action: JSONValue) {
        self.data = data
        self.actor = actor
        self.action = action
    }

    /// Names a path may start with in an answer template.
    public static let rootNames: Set<String> = ["data", "actor", "action"]

    func bindingValue(forRoot name: String) -> JSONValue? {
        switch name {
        case "data": data
        case "actor": actor
        case "action": action
        default: nil
        }
    }

    var dataWithoutHerald: JSONValue {
        guard case .object(let members) = data, members.contains(where: { $0.key == "herald" }) else { return data }
        return .object(members.filter { $0.key != "herald" })
    }
}
