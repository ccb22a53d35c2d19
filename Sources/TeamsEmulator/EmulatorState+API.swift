import NIOHTTP1

extension EmulatorState {
    /// Serves one API call: authentication, injected faults, body checks, recipient state, rate limits,
    /// then the operation itself.
    mutating func serve(_ call: APICall, now: ContinuousClock.Instant) -> Reply {
        self.stats.apiRequests += 1
        if case .members = call.route { self.stats.memberReads += 1 }
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
        if !self.configuration.movedTenants.isEmpty, let refusal = self.wrongRegion(call) { return refusal }
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
        case .channels(let teamId):
            return self.channels(of: teamId, now: now)
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
}
