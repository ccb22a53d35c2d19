import TeamsEmulator

/// What the demo asks of Teams (the emulator): installs that Teams tells the bot about, the conversations and
/// the cards in them, button presses, and the emulator's counts. `herald demo` runs the emulator as a process of
/// its own, as Teams is: requests then reach it when they leave, not when the demo's own process gets to them.
package protocol DemoTeams: Sendable {
    /// Installs the app (Teams posts the install to the bot): the conversation, and each posted activity's HTTP
    /// status from the bot.
    func install(_ request: TeamsInstall) async throws -> DemoInstall
    /// Every conversation with its activities.
    func conversations() async throws -> [DemoConversation]
    /// Presses a button: whether the bot answered with a card.
    func click(_ click: TeamsClick) async throws -> Bool
    /// Where Teams posts to the bot.
    func setBotEndpoint(_ url: String) async throws
    func stats() async throws -> EmulatorStats
}

/// What one install did.
package struct DemoInstall: Sendable {
    package var conversationId: String
    /// The bot's answer to each activity Teams posted.
    package var statuses: [Int]

    package init(conversationId: String, statuses: [Int]) {
        self.conversationId = conversationId
        self.statuses = statuses
    }
}

/// A conversation as the emulator lists it.
package struct DemoConversation: Sendable {
    package struct Activity: Sendable {
        package var id: String
        /// `send`, `update` or `delete`.
        package var operation: String
        package var body: [UInt8]?

        package init(id: String, operation: String, body: [UInt8]?) {
            self.id = id
            self.operation = operation
            self.body = body
        }
    }

    package var id: String
    package var isGroup: Bool
    package var activities: [Activity]

    package init(id: String, isGroup: Bool, activities: [Activity]) {
        self.id = id
        self.isGroup = isGroup
        self.activities = activities
    }

    /// Activities sent and not deleted, in order.
    package var liveActivityIds: [String] {
        let deleted = Set(activities.filter { $0.operation == "delete" }.map(\.id))
        return activities.filter { $0.operation == "send" && !deleted.contains($0.id) }.map(\.id)
    }

    /// The activity's body as it stands: its last send or update.
    package func body(of id: String) -> [UInt8]? {
        activities.last { $0.id == id && $0.operation != "delete" }?.body
    }
}
