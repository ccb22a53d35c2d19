import Foundation
import HeraldJSON

extension EventDecoder {
    /// Herald's instructions: CloudEvents extension attributes (`deliverat`, `expiresat`, `notificationkey`,
    /// `action`, lower-case as CloudEvents requires) win over the same fields in `data.herald` (camelCase).
    func instructions(
        data: JSONValue, extensions: (String) throws(EventDecodingError) -> String?
    ) throws(EventDecodingError) -> HeraldInstructions {
        let inData = data["herald"]
        if let inData, inData != .null {
            guard case .object = inData else {
                throw EventDecodingError(.invalidAttribute, "data.herald must be an object")
            }
        }
        func field(_ ext: String, _ key: String) throws(EventDecodingError) -> String? {
            if let value = try extensions(ext) { return value }
            return try attribute(inData?[key], "data.herald." + key)
        }
        func date(_ ext: String, _ key: String) throws(EventDecodingError) -> Date? {
            guard let text = try field(ext, key) else { return nil }
            guard let date = RFC3339.parse(text) else {
                throw EventDecodingError(.invalidAttribute, "\(key) is not an RFC 3339 date-time")
            }
            return date
        }
        var result = HeraldInstructions()
        result.deliverAt = try date("deliverat", "deliverAt")
        result.expiresAt = try date("expiresat", "expiresAt")
        result.notificationKey = try field("notificationkey", "notificationKey")
        if let action = try field("action", "action") {
            guard let parsed = DeliveryAction(rawValue: action) else {
                throw EventDecodingError(.invalidAttribute, "action must be send, update or delete")
            }
            result.action = parsed
        }
        return result
    }
}
