import HeraldJSON

/// CloudEvents structured JSON mode, as Herald writes events (demo publisher, tests, re-publication).
extension NotificationEvent {
    /// The event as a CloudEvents 1.0 JSON object; Herald's instructions as extension attributes.
    public var structuredJSON: JSONValue {
        var members: [JSONMember] = [
            JSONMember("specversion", "1.0"), JSONMember("id", .string(id)), JSONMember("type", .string(type)),
            JSONMember("source", .string(source)),
        ]
        if let subject { members.append(JSONMember("subject", .string(subject))) }
        if let time { members.append(JSONMember("time", .string(time))) }
        members.append(JSONMember("datacontenttype", "application/json"))
        if let deliverAt = herald.deliverAt {
            members.append(JSONMember("deliverat", .string(RFC3339.format(deliverAt))))
        }
        if let expiresAt = herald.expiresAt {
            members.append(JSONMember("expiresat", .string(RFC3339.format(expiresAt))))
        }
        if let key = herald.notificationKey { members.append(JSONMember("notificationkey", .string(key))) }
        if let action = herald.action { members.append(JSONMember("action", .string(action.rawValue))) }
        if let traceparent { members.append(JSONMember("traceparent", .string(traceparent))) }
        members.append(JSONMember("data", data))
        return .object(members)
    }

    /// ``structuredJSON`` as compact bytes, ready to be a Kafka record value.
    public var structuredJSONBytes: [UInt8] { JSONWriter.encode(structuredJSON) }
}
