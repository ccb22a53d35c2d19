extension Router {
    /// Substitutes a recipient's fields; a required field that renders empty is a rejection, not a crash.
    func resolve(
        _ template: RecipientTemplate, scope: EvaluationScope, route: String, index: Int
    )
        -> Result<Recipient, DeliveryRejection>
    {
        var problem: (DeliveryRejection.Code, String)?
        func field(_ t: TextTemplate?, _ name: String, required: Bool) -> String? {
            guard let t else {
                if required, problem == nil { problem = (.missingRecipientField, "\(name) is not given") }
                return nil
            }
            let value: String
            do {
                value = try t.render(in: scope, limits: limits)
            } catch {
                if problem == nil { problem = (.recipientFieldTooLong, "\(name) is too long") }
                return nil
            }
            if value.utf8.count > Self.maxRecipientFieldBytes {
                if problem == nil {
                    problem = (.recipientFieldTooLong, "\(name) is longer than \(Self.maxRecipientFieldBytes) bytes")
                }
                return nil
            }
            if value.isEmpty {
                if required, problem == nil {
                    problem = (.missingRecipientField, "\(name) rendered empty from \"\(t.source)\"")
                }
                return nil
            }
            return value
        }
        let recipient: Recipient
        switch template {
        case .user(let userId, let aad, let tenant):
            let u = field(userId, "user.userId", required: false)
            let a = field(aad, "user.aadObjectId", required: false)
            let t = field(tenant, "user.tenantId", required: false)
            if u == nil, a == nil, problem == nil {
                problem = (.missingRecipientField, "user.userId and user.aadObjectId both rendered empty")
            }
            recipient = .user(userId: u, aadObjectId: a, tenantId: t)
        case .conversation(let id, let serviceUrl, let tenant):
            recipient = .conversation(
                id: field(id, "conversation.id", required: true) ?? "",
                serviceUrl: field(serviceUrl, "conversation.serviceUrl", required: false),
                tenantId: field(tenant, "conversation.tenantId", required: false))
        case .reference(let key):
            recipient = .reference(key: field(key, "reference", required: true) ?? "")
        case .channel(let team, let channel, let tenant, let thread):
            recipient = .channel(
                teamId: field(team, "channel.teamId", required: false),
                channelId: field(channel, "channel.channelId", required: true) ?? "",
                tenantId: field(tenant, "channel.tenantId", required: false),
                threadId: field(thread, "channel.threadId", required: false))
        case .person(let email, let upn, let tenant):
            let t = field(tenant, "user.tenantId", required: true) ?? ""
            if let address = field(email, "user.email", required: email != nil) {
                recipient = .person(.email(address), tenantId: t)
            } else {
                recipient = .person(.upn(field(upn, "user.upn", required: upn != nil) ?? ""), tenantId: t)
            }
        case .group(let id, let tenant):
            recipient = .group(
                id: field(id, "group.id", required: true) ?? "",
                tenantId: field(tenant, "group.tenantId", required: true))
        case .namedChannel(let team, let name, let tenant):
            recipient = .namedChannel(
                teamId: field(team, "channel.teamId", required: true) ?? "",
                channelName: field(name, "channel.channelName", required: true) ?? "",
                tenantId: field(tenant, "channel.tenantId", required: false))
        case .teamMembers(let team, let tenant):
            recipient = .teamMembers(
                teamId: field(team, "teamMembers.teamId", required: true) ?? "",
                tenantId: field(tenant, "teamMembers.tenantId", required: false))
        }
        if let (code, message) = problem {
            return .failure(
                DeliveryRejection(
                    eventId: scope.event.id, route: route, recipientIndex: index, recipient: nil, code: code,
                    message: message))
        }
        return .success(recipient)
    }
}
