import Foundation
import Store

@testable import Gateway

/// An activity POSTed to `/api/messages` (after its token was verified): read leniently and translated into
/// references, tombstones and interaction events without a crash; what it publishes is valid JSON, and every
/// reference it writes reads back as one.
enum ActivityCheck {
    static let translator = ActivityTranslator(appId: "28:fuzz-app", replyToMessages: "Herald here.")

    static func check(_ bytes: [UInt8]) throws(PropertyViolation) {
        guard let activity = try? JSONDecoder().decode(InboundActivity.self, from: Data(bytes)) else { return }
        let work = translator.translate(activity, body: bytes, receivedAt: Date(timeIntervalSince1970: 1_780_000_000))
        for reference in work.references {
            guard !reference.key.isEmpty else {
                throw PropertyViolation(.activity, "a reference without a key from \(excerpt(bytes))")
            }
            // What the gateway publishes, `herald references import` and the references topic read back.
            do throws(BotFrameworkReference.ParseError) {
                _ = try BotFrameworkReference.parse(String(decoding: reference.json, as: UTF8.self))
            } catch {
                throw PropertyViolation(
                    .activity, "a reference Herald cannot read back (\(error)) from \(excerpt(bytes))")
            }
        }
        for event in work.events {
            guard let encoded = try? JSONEncoder().encode(event),
                (try? JSONSerialization.jsonObject(with: encoded)) != nil
            else {
                throw PropertyViolation(.activity, "an interaction event that cannot be written from \(excerpt(bytes))")
            }
        }
    }
}
