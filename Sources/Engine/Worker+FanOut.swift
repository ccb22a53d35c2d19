import BotConnector
import Foundation
import Routing
import Store

extension Worker {
    /// `teamMembers`: fetches the team's roster (paged), then delivers to every member as a 1:1 delivery with
    /// its own id and outcome, a few members at a time. The record counts as done when every member's is.
    func fanOut(_ item: WorkItem) async {
        guard case .teamMembers(let teamId, let tenant) = item.delivery.recipient else { return }
        var run = Run()
        let client = self.client
        let roster = await attempt(
            item, &run, .members, serviceUrl: nil, conversation: teamId, tenant: tenant ?? "", carriesMessage: false
        ) {
            () async throws(BotConnectorError) -> [TeamsMember] in
            try await client.pagedMembers(serviceURL: nil, conversationId: teamId)
        }
        let members: [TeamsMember]
        switch roster {
        case .success(let list):
            members = list
        case .failure(let error):
            guard case .final(let outcome) = error.step,
                await publish(outcome, traceparent: item.event.traceparent, ticket: item.recordTicket)
            else { return }
            await complete(item)
            return
        }
        let concurrency = max(1, options.memberConcurrency)
        let completed = await withTaskGroup(of: Bool.self) { group in
            var all = true
            for (index, member) in members.enumerated() {
                if index >= concurrency, let done = await group.next() { all = all && done }
                var memberItem = item
                memberItem.delivery.recipient = .user(
                    userId: member.id, aadObjectId: member.aadObjectId, tenantId: tenant ?? member.tenantId)
                memberItem.deliveryId = item.delivery.deliveryId(forMember: member.id)
                group.addTask { await self.deliverMember(memberItem) }
            }
            for await done in group { all = all && done }
            return all
        }
        if completed { await complete(item) }
    }
}
