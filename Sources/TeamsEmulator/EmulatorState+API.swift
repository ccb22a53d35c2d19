import NIOHTTP1

extension EmulatorState {
    /// Serves one API call: authentication, injected faults, body checks, recipient state, rate limits,
    /// then the operation itself.
    mutating func serve(_ call: APICall, now: ContinuousClock.Instant) -> Reply {
        self.stats.apiRequests += 1
        let reply = self.reply(to: call, now: now)
        self.count(reply)
        return reply
    }

    private mutating func reply(to call: APICall, now: ContinuousClock.Instant) -> Reply {
        guard self.isAuthorized(call.authorization, now: now) else {
            return Reply(status: .unauthorized, body: #"{"message":"Authorization has been denied for this request."}"#)
        }
        if let fault = self.injectedFault() { return fault }
        switch call.body {
        case .tooLarge:
            return Self.error(.payloadTooLarge, "MessageSizeTooBig", "Message size too big.")
        case .invalid(let message):
            return Self.error(.badRequest, "BadArgument", message)
        case .none, .activity, .create:
            break
        }
        if !self.configuration.gccTenants.isEmpty, let refusal = self.wrongHost(call) { return refusal }
        switch call.route {
        case .create:
            guard case .create(let info) = call.body else { return Self.badArgument }
            return self.create(info, now: now)
        case .send(let conversationId):
            guard case .activity(let info, let body) = call.body else { return Self.badArgument }
            return self.send(conversationId, info: info, body: body, now: now)
        case .update(let conversationId, let activityId):
            guard case .activity(_, let body) = call.body else { return Self.badArgument }
            return self.change(conversationId, activityId, operation: .update, body: body, now: now)
        case .delete(let conversationId, let activityId):
            return self.change(conversationId, activityId, operation: .delete, body: nil, now: now)
        case .members(let id, let pageSize, let token):
            return self.members(id, pageSize: pageSize, continuationToken: token, now: now)
        }
    }

    // Records are mutated in place through `conversations.values[index]`: holding a copy of a record
    // while appending would copy its whole activity list on every send.

    private mutating func send(
        _ conversationId: String,
        info: Validation.ActivityInfo,
        body: [UInt8],
        now: ContinuousClock.Instant
    ) -> Reply {
        guard let index = self.conversations.index(forKey: conversationId) else { return Self.conversationNotFound }
        if let refusal = self.refusal(for: self.conversations.values[index]) { return refusal }
        if let throttled = self.throttle(at: index, now: now) { return throttled }
        let kept = self.keep(body)
        let id = self.makeActivityId()
        self.conversations.values[index].append(RecordedActivity(id: id, operation: .send, body: kept))
        self.stats.activitiesSent += 1
        if info.splitsInTwo {
            // Teams posts the text and the attachments as two messages and returns no id.
            let second = self.makeActivityId()
            self.conversations.values[index].append(RecordedActivity(id: second, operation: .send, body: kept))
            return Reply(status: .created, body: "{}")
        }
        return Reply(status: .created, body: #"{"id":"\#(id)"}"#)
    }

    private mutating func change(
        _ conversationId: String,
        _ activityId: String,
        operation: RecordedActivity.Operation,
        body: [UInt8]?,
        now: ContinuousClock.Instant
    ) -> Reply {
        guard let index = self.conversations.index(forKey: conversationId) else { return Self.conversationNotFound }
        guard self.conversations.values[index].live.contains(activityId) else {
            return Self.error(
                .notFound, "ActivityNotFoundInConversation", "The activity was not found in the conversation.")
        }
        if let refusal = self.refusal(for: self.conversations.values[index]) { return refusal }
        if let throttled = self.throttle(at: index, now: now) { return throttled }
        let kept = body.flatMap { self.keep($0) }
        self.conversations.values[index].append(RecordedActivity(id: activityId, operation: operation, body: kept))
        if operation == .delete {
            self.stats.activitiesDeleted += 1
            return Reply(status: .ok, body: "")
        }
        self.stats.activitiesUpdated += 1
        return Reply(status: .ok, body: #"{"id":"\#(activityId)"}"#)
    }

    /// 403 InvalidBotApiHost when a GCC tenant's call did not come through the GCC serviceUrl.
    private func wrongHost(_ call: APICall) -> Reply? {
        guard !call.prefix.hasPrefix("/gcc") else { return nil }
        let tenantId: String?
        switch (call.route, call.body) {
        case (.create, .create(let info)): tenantId = info.tenantId
        case (.send(let id), _), (.update(let id, _), _), (.delete(let id, _), _), (.members(let id, _, _), _):
            tenantId = self.conversations[id]?.conversation.tenantId
        default: tenantId = nil
        }
        guard let tenantId, self.configuration.gccTenants.contains(tenantId) else { return nil }
        return Self.error(.forbidden, "InvalidBotApiHost", "Invalid bot api host. Use the GCC service URL.")
    }

    /// A 403 when the recipient cannot be written to, else nil.
    func refusal(for record: ConversationRecord) -> Reply? {
        let conversation = record.conversation
        if self.configuration.disabledTenants.contains(conversation.tenantId) {
            return Self.error(.forbidden, "BotDisabledByAdmin", "The bot is disabled by the tenant admin.")
        }
        if self.configuration.removedFromConversations.contains(conversation.id)
            || conversation.channelId.map(self.configuration.removedFromConversations.contains) == true
        {
            return Self.error(
                .forbidden, "BotNotInConversationRoster", "The bot is not part of the conversation roster.")
        }
        for key in [conversation.userId, record.aadObjectId].compactMap({ $0 }) {
            if let shape = self.configuration.blocked[key] { return Self.blocked(shape) }
            if self.configuration.notInstalled.contains(key) { return Self.notInstalled }
        }
        return nil
    }

    /// Checks the tenant's and the conversation's windows; records the call in both when it is admitted.
    mutating func throttle(
        at index: Dictionary<String, ConversationRecord>.Index, now: ContinuousClock.Instant
    ) -> Reply? {
        guard let windows = self.configuration.limits.conversationWindows,
            let tenantWindows = self.configuration.limits.tenantWindows
        else { return nil }
        let tenantId = self.conversations.values[index].conversation.tenantId
        if self.conversations.values[index].limiter == nil {
            self.conversations.values[index].limiter = SlidingWindowLimiter(windows: windows)
        }
        let tenantWait = self.tenantLimiters[tenantId, default: SlidingWindowLimiter(windows: tenantWindows)].wait(
            now: now)
        let wait = max(tenantWait ?? .zero, self.conversations.values[index].limiter!.wait(now: now) ?? .zero)
        guard wait == .zero else { return self.throttled(wait) }
        self.tenantLimiters[tenantId]!.record(now: now)
        self.conversations.values[index].limiter!.record(now: now)
        return nil
    }

    /// Checks the tenant's window and one keyed window (creates, member reads); records when admitted.
    mutating func throttle(
        _ limiters: WritableKeyPath<EmulatorState, [String: SlidingWindowLimiter]>,
        key: String,
        windows: [SlidingWindowLimiter.Window],
        tenantId: String?,
        now: ContinuousClock.Instant
    ) -> Reply? {
        var wait = self[keyPath: limiters][key, default: SlidingWindowLimiter(windows: windows)].wait(now: now) ?? .zero
        if let tenantId, let tenantWindows = self.configuration.limits.tenantWindows {
            let tenantWait = self.tenantLimiters[tenantId, default: SlidingWindowLimiter(windows: tenantWindows)]
                .wait(now: now)
            wait = max(wait, tenantWait ?? .zero)
        }
        guard wait == .zero else { return self.throttled(wait) }
        self[keyPath: limiters][key]!.record(now: now)
        if let tenantId { self.tenantLimiters[tenantId]?.record(now: now) }
        return nil
    }

    /// A 429, with `Retry-After` as the configuration says.
    mutating func throttled(_ wait: Duration) -> Reply {
        var reply = Self.error(.tooManyRequests, "Throttled", "Too many requests. Please slow down.")
        let withHeader: Bool
        switch self.configuration.retryAfter {
        case .always: withHeader = true
        case .never: withHeader = false
        case .alternate: withHeader = self.stats.throttled % 2 == 0
        }
        if withHeader {
            let (seconds, attoseconds) = wait.components
            reply.retryAfterSeconds = max(1, Int(seconds) + (attoseconds > 0 ? 1 : 0))
        }
        return reply
    }

    private mutating func injectedFault() -> Reply? {
        let faults = self.configuration.faults
        guard faults.total > 0 else { return nil }
        var draw = self.random.unit()
        let table: [(Double, HTTPResponseStatus, String)] = [
            (faults.preconditionFailed, .preconditionFailed, "PreconditionFailed"),
            (faults.badGateway, .badGateway, "BadGateway"),
            (faults.serviceUnavailable, .serviceUnavailable, "ServiceUnavailable"),
            (faults.gatewayTimeout, .gatewayTimeout, "GatewayTimeout"),
        ]
        for (rate, status, code) in table {
            if draw < rate { return Self.error(status, code, "Injected fault.") }
            draw -= rate
        }
        if draw < faults.dropConnection {
            return Reply(status: .internalServerError, body: "", dropConnection: true)
        }
        return nil
    }
}
