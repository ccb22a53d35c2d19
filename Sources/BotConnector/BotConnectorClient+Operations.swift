import Foundation
import HeraldJSON
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

extension BotConnectorClient {
    /// `POST v3/conversations`: a 1:1 chat (Teams returns the existing one if there is one) or a new
    /// channel thread with its first message.
    /// - Parameter serviceUrl: nil or empty for the configured default service URL.
    public func createConversation(
        serviceUrl: String?,
        _ parameters: ConversationParameters
    ) async throws(BotConnectorError) -> ConversationResource {
        let service = try self.resolveServiceUrl(serviceUrl)
        if let activity = parameters.activity { _ = try self.encode(activity) }
        if case .channel = parameters.target, parameters.activity == nil {
            throw BotConnectorError(code: .badArgument, message: "a channel thread needs a first activity")
        }
        let body = parameters.encodedJSON(botId: self.botId)
        let response = try await self.perform(.POST, service, path: "v3/conversations", body: body)
        var resource = try Self.decode(ConversationResource.self, response)
        if resource.serviceUrl == nil, response.service != service {
            // Answered by the GCC host after InvalidBotApiHost: the conversation lives there.
            resource.serviceUrl = response.service.description
        }
        return resource
    }

    /// `POST v3/conversations/{id}/activities`; returns the new activity id.
    public func sendActivity(
        serviceUrl: String?,
        conversationId: String,
        _ activity: MessageActivity
    ) async throws(BotConnectorError) -> String {
        let service = try self.resolveServiceUrl(serviceUrl)
        let body = try self.encode(activity)
        let path = "v3/conversations/\(try Self.segment(conversationId))/activities"
        let response = try await self.perform(.POST, service, path: path, body: body)
        guard let id = try Self.activityId(response), !id.isEmpty else {
            throw BotConnectorError(
                code: .invalidResponse, httpStatus: response.status, message: "no activity id returned")
        }
        return id
    }

    /// `PUT v3/conversations/{id}/activities/{activityId}`; returns the activity id.
    public func updateActivity(
        serviceUrl: String?,
        conversationId: String,
        activityId: String,
        _ activity: MessageActivity
    ) async throws(BotConnectorError) -> String {
        let service = try self.resolveServiceUrl(serviceUrl)
        let body = try self.encode(activity)
        let path = "v3/conversations/\(try Self.segment(conversationId))/activities/\(try Self.segment(activityId))"
        let response = try await self.perform(.PUT, service, path: path, body: body)
        let id = try? Self.activityId(response)
        return id.flatMap { $0.isEmpty ? nil : $0 } ?? activityId
    }

    /// `DELETE v3/conversations/{id}/activities/{activityId}`.
    public func deleteActivity(
        serviceUrl: String?,
        conversationId: String,
        activityId: String
    ) async throws(BotConnectorError) {
        let service = try self.resolveServiceUrl(serviceUrl)
        let path = "v3/conversations/\(try Self.segment(conversationId))/activities/\(try Self.segment(activityId))"
        _ = try await self.perform(.DELETE, service, path: path, body: nil)
    }

    /// One page of `GET v3/conversations/{id}/pagedmembers`.
    /// - Parameter pageSize: nil for Teams' default.
    public func membersPage(
        serviceUrl: String?,
        conversationId: String,
        pageSize: Int? = nil,
        continuationToken: String? = nil
    ) async throws(BotConnectorError) -> MembersPage {
        let service = try self.resolveServiceUrl(serviceUrl)
        var query: [String] = []
        if let pageSize { query.append("pageSize=\(pageSize)") }
        if let continuationToken { query.append("continuationToken=\(FormEncoding.encode(continuationToken))") }
        var path = "v3/conversations/\(try Self.segment(conversationId))/pagedmembers"
        if !query.isEmpty { path += "?" + query.joined(separator: "&") }
        let response = try await self.perform(.GET, service, path: path, body: nil)
        return try Self.decode(MembersPage.self, response)
    }

    /// The team's channels: `GET v3/teams/{teamId}/conversations`. The General channel has no name in Teams'
    /// answer; it is given the name `General` here.
    public func teamChannels(serviceUrl: String?, teamId: String) async throws(BotConnectorError) -> [TeamChannel] {
        let service = try self.resolveServiceUrl(serviceUrl)
        let response = try await self.perform(
            .GET, service, path: "v3/teams/\(try Self.segment(teamId))/conversations", body: nil)
        struct Channels: Decodable { var conversations: [TeamChannel] }
        return try Self.decode(Channels.self, response).conversations.map { channel in
            var named = channel
            if named.name?.isEmpty ?? true { named.name = "General" }
            return named
        }
    }

    /// Every member of a team or conversation, following continuation tokens to the last page.
    public func pagedMembers(
        serviceUrl: String?,
        conversationId: String,
        pageSize: Int? = nil
    ) async throws(BotConnectorError) -> [TeamsMember] {
        var members: [TeamsMember] = []
        var token: String?
        var seenTokens = Set<String>()
        repeat {
            let page = try await self.membersPage(
                serviceUrl: serviceUrl,
                conversationId: conversationId,
                pageSize: pageSize,
                continuationToken: token
            )
            members.append(contentsOf: page.members)
            token = page.continuationToken
            if let token, !seenTokens.insert(token).inserted {
                // A token seen before would page forever.
                throw BotConnectorError(code: .invalidResponse, message: "pagedmembers repeated a continuation token")
            }
        } while token != nil
        return members
    }

    /// The activity's JSON; refuses an activity Teams would refuse, before anything is sent.
    func encode(_ activity: MessageActivity) throws(BotConnectorError) -> [UInt8] {
        guard activity.hasPlausibleCard else {
            throw BotConnectorError(code: .badArgument, message: "the Adaptive Card is not a JSON object")
        }
        let body = activity.encodedJSON()
        // Teams counts UTF-16 (two bytes a code unit, base64 images left out): at most twice the UTF-8 bytes.
        let limit = self.configuration.maxActivityBytes
        guard body.count * 2 > limit else { return body }
        let size = TeamsMessageSize.of(json: body)
        guard size <= limit else {
            throw BotConnectorError(
                code: .messageTooLarge,
                message: "the activity is \(size) bytes as Teams counts them (UTF-16), over the \(limit)-byte limit")
        }
        return body
    }

    /// A path segment with everything but unreserved characters escaped (`a:1` becomes `a%3A1`).
    /// Ids come from events and stored references: an empty id, `.` or `..` would change which endpoint
    /// the URL names, so they are refused.
    static func segment(
        _ value: String, _ what: String = "conversation or activity id"
    ) throws(BotConnectorError) -> String {
        guard !value.isEmpty, value != ".", value != "..", value.utf8.count <= 1024 else {
            throw BotConnectorError(code: .badArgument, message: "not a valid \(what)")
        }
        return FormEncoding.encode(value)
    }

    /// The `id` of a `ResourceResponse`. Teams answers every send with `{"id":"..."}`; that exact shape is read
    /// directly, anything else goes through the JSON decoder.
    static func activityId(_ response: Response) throws(BotConnectorError) -> String? {
        if let id = response.body.withUnsafeReadableBytes({ ResourceResponse.plainId(in: $0) }) { return id }
        return try Self.decode(ResourceResponse.self, response).id
    }

    static func decode<T: Decodable>(_ type: T.Type, _ response: Response) throws(BotConnectorError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: response.body))
        } catch {
            throw BotConnectorError(
                code: .invalidResponse,
                httpStatus: response.status,
                message: "could not read the \(T.self) response",
                correlationId: response.headers.first(name: "x-correlating-operationid")
            )
        }
    }
}
