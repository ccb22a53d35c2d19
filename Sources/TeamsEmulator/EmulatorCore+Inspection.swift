import Foundation
import HeraldHTTP
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

extension EmulatorCore {
    /// `GET /emulator/conversations`, `GET /emulator/conversations/{id}/activities/{activityId}` (one activity as
    /// it stands: `{"id","conversationId","operation","body"}`, a card a click replaced included),
    /// `GET /emulator/stats`, `GET /emulator/tokens` (the access tokens issued and still valid, Bot Connector and
    /// Graph), `GET /emulator/installations` (apps installed through Graph), `POST /emulator/config`,
    /// `POST /emulator/reset`.
    func inspect(_ request: HTTPRequest, path: Substring) -> HTTPResponse {
        switch (request.method, path) {
        case (.GET, _) where path.hasPrefix("conversations/"):
            return self.activity(path: path.dropFirst("conversations/".count))
        case (.GET, "conversations"):
            let conversations = self.state.withLock { state in
                state.stats.requests += 1
                return state.conversationOrder.compactMap { state.conversations[$0]?.conversation }
            }
            return .json(.ok, Self.json(conversations))
        case (.GET, "stats"):
            let stats = self.state.withLock { state in
                state.stats.requests += 1
                return state.stats
            }
            return .json(.ok, Self.json(stats))
        case (.GET, "tokens"):
            // For tests that check a client never leaks the bearer token it was given.
            let tokens = self.state.withLock { state in
                state.stats.requests += 1
                return state.tokens.keys.sorted()
            }
            return .json(.ok, #"{"tokens":[\#(tokens.map(JSONText.quote).joined(separator: ","))]}"#)
        case (.GET, "installations"):
            let installations = self.state.withLock { state in
                state.stats.requests += 1
                return state.graphInstallations()
            }
            let entries = installations.map { installation in
                #"{"userId":\#(JSONText.quote(installation.userId)),"#
                    + #""installationId":\#(JSONText.quote(installation.installationId))}"#
            }
            return .json(.ok, #"{"installations":[\#(entries.joined(separator: ","))]}"#)
        case (.POST, "config"):
            let update: ConfigUpdate
            do {
                update = try JSONDecoder().decode(ConfigUpdate.self, from: Data(buffer: request.body))
            } catch {
                self.state.withLock { $0.stats.requests += 1 }
                return .json(.badRequest, #"{"error":{"code":"BadArgument","message":"Not a valid emulator config."}}"#)
            }
            let result: Result<Void, ConfigUpdate.Invalid> = self.state.withLock { state in
                state.stats.requests += 1
                var configuration = state.configuration
                do throws(ConfigUpdate.Invalid) {
                    try update.apply(to: &configuration)
                } catch {
                    return .failure(error)
                }
                state.update(configuration)
                return .success(())
            }
            if case .failure(let invalid) = result {
                return .json(
                    .badRequest, #"{"error":{"code":"BadArgument","message":\#(JSONText.quote(invalid.message))}}"#)
            }
            return .json(.ok, #"{"ok":true}"#)
        case (.POST, "reset"):
            self.state.withLock { state in
                var fresh = EmulatorState(configuration: state.configuration, seed: state.random.next())
                fresh.stats.requests = 1
                state = fresh
            }
            return .json(.ok, #"{"ok":true}"#)
        default:
            self.state.withLock { $0.stats.requests += 1 }
            return .json(.notFound, #"{"error":{"code":"NotFound","message":"No such emulator endpoint."}}"#)
        }
    }

    /// `{id}/activities/{activityId}`: the activity's last send or update; 404 when unknown or deleted.
    private func activity(path: Substring) -> HTTPResponse {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).map { PercentEncoding.decode($0) }
        guard segments.count == 3, segments[1] == "activities", let conversationId = segments[0],
            let activityId = segments[2]
        else {
            self.state.withLock { $0.stats.requests += 1 }
            return .json(.notFound, #"{"error":{"code":"NotFound","message":"No such emulator endpoint."}}"#)
        }
        let activity = self.state.withLock { state in
            state.stats.requests += 1
            return state.conversations[conversationId]?.conversation.activity(activityId)
        }
        guard let activity else {
            let message = "No activity \(activityId) in conversation \(conversationId): never sent, or deleted"
            return .json(.notFound, #"{"error":{"code":"NotFound","message":\#(JSONText.quote(message))}}"#)
        }
        var out = ByteBuffer()
        out.writeString(
            #"{"id":\#(JSONText.quote(activity.id)),"conversationId":\#(JSONText.quote(conversationId)),"#
                + #""operation":"\#(activity.operation.rawValue)""#)
        if let body = activity.body, !body.isEmpty {
            // Bodies were parsed as JSON when received (or written by the emulator): spliced in as they are.
            out.writeString(#","body":"#)
            out.writeBytes(body)
        }
        out.writeString("}")
        return .json(.ok, out)
    }

    static func json(_ stats: EmulatorStats) -> String {
        #"{"requests":\#(stats.requests),"apiRequests":\#(stats.apiRequests),"tokensIssued":\#(stats.tokensIssued),"#
            + #""throttled":\#(stats.throttled),"errors":\#(stats.errors),"droppedConnections":\#(stats.droppedConnections),"#
            + #""throttledBy":{"#
            + stats.throttledBy.sorted { $0.key < $1.key }.map { #""\#($0.key)":\#($0.value)"# }.joined(separator: ",")
            + #"},"unanswered":\#(stats.unanswered),"#
            + #""conversationsCreated":\#(stats.conversationsCreated),"activitiesSent":\#(stats.activitiesSent),"#
            + #""activitiesUpdated":\#(stats.activitiesUpdated),"activitiesDeleted":\#(stats.activitiesDeleted),"#
            + #""memberReads":\#(stats.memberReads),"#
            + #""graphRequests":\#(stats.graphRequests),"graphInstalls":\#(stats.graphInstalls),"#
            + #""graphSettlingMisses":\#(stats.graphSettlingMisses),"#
            + #""directoryReads":\#(stats.directoryReads),"#
            + #""graphThrottled":\#(stats.graphThrottled),"openIdMetadataRequests":\#(stats.openIdMetadataRequests),"#
            + #""jwksRequests":\#(stats.jwksRequests),"activitiesPosted":\#(stats.activitiesPosted),"#
            + #""activityFailures":\#(stats.activityFailures),"clicks":\#(stats.clicks),"clickAnswers":{"#
            + ClickAnswer.Kind.allCases.map { #""\#($0.rawValue)":\#(stats.clickAnswers[$0])"# }.joined(separator: ",")
            + "}}"
    }

    static func json(_ conversations: [EmulatedConversation]) -> ByteBuffer {
        var out = ByteBuffer()
        out.writeString(#"{"conversations":["#)
        for (index, conversation) in conversations.enumerated() {
            if index > 0 { out.writeString(",") }
            out.writeString(
                #"{"id":\#(JSONText.quote(conversation.id)),"tenantId":\#(JSONText.quote(conversation.tenantId)),"#)
            out.writeString(#""isGroup":\#(conversation.isGroup)"#)
            if let userId = conversation.userId { out.writeString(#","userId":\#(JSONText.quote(userId))"#) }
            if let channelId = conversation.channelId {
                out.writeString(#","channelId":\#(JSONText.quote(channelId))"#)
            }
            out.writeString(#","activities":["#)
            for (position, activity) in conversation.activities.enumerated() {
                if position > 0 { out.writeString(",") }
                out.writeString(#"{"id":"\#(activity.id)","operation":"\#(activity.operation.rawValue)""#)
                if let body = activity.body, !body.isEmpty {
                    // Bodies were parsed as JSON when received, so they can be spliced in as they are.
                    out.writeString(#","body":"#)
                    out.writeBytes(body)
                }
                out.writeString("}")
            }
            out.writeString("]}")
        }
        out.writeString("]}")
        return out
    }
}
