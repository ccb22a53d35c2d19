import Foundation

/// What one activity asks of Kafka and the store. Produced by ``ActivityTranslator`` (pure), carried out by
/// ``MessagingEndpoint``: everything here is idempotent, so a retried activity does it again harmlessly.
struct GatewayWork: Sendable {
    /// A conversation reference for `kafka.referencesTopic`, under `key`.
    struct Reference: Sendable, Hashable {
        var key: String
        /// `{"key": K, "reference": {...}}`, the format `herald references import` reads.
        var json: [UInt8]
    }

    var references: [Reference] = []
    /// Reference keys to forget (tombstones on `kafka.referencesTopic`).
    var tombstones: [String] = []
    /// Personal chats whose user uninstalled the app: marked blocked in the store.
    var blocked: [String] = []
    /// Personal chats whose user installed the app again: no longer blocked.
    var unblocked: [String] = []
    var events: [InteractionEvent] = []
    /// Text to send back to the conversation (a user wrote to the bot).
    var reply: String?
    /// Why nothing is done, for the debug log; nil when something is.
    var ignored: String?

    var isEmpty: Bool {
        references.isEmpty && tombstones.isEmpty && blocked.isEmpty && unblocked.isEmpty && events.isEmpty
            && reply == nil
    }
}
