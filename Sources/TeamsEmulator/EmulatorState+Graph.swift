import Foundation
import NIOHTTP1
import RateLimiting

extension EmulatorState {
    /// The app's name in the catalog, as Graph lists it.
    static let teamsAppDisplayName = "Herald"

    /// Serves one Microsoft Graph call: authentication (a Graph token), injected throttling, the tenant's
    /// consent, then the operation. Graph calls never count against the Bot Connector's rate limits.
    mutating func serveGraph(_ call: GraphCall, now: ContinuousClock.Instant) -> Reply {
        self.stats.graphRequests += 1
        return self.graphReply(to: call, now: now)
    }

    private mutating func graphReply(to call: GraphCall, now: ContinuousClock.Instant) -> Reply {
        guard let token = self.token(call.authorization, now: now), token.audience == .graph else {
            return Self.graphError(
                .unauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
        }
        self.graphThrottleDebt += self.configuration.faults.graph429
        if self.graphThrottleDebt >= 1 {
            self.graphThrottleDebt -= 1
            self.stats.graphThrottled += 1
            var reply = Self.graphError(
                .tooManyRequests, "TooManyRequests", "Too many requests. Retry after the time in Retry-After.")
            reply.retryAfterSeconds = 1
            return reply
        }
        let tenantId = token.tenantId.lowercased()
        if let directory = self.directoryReply(to: call, tenantId: tenantId, now: now) { return directory }
        if self.configuration.graphConsentMissing.contains(where: { $0.lowercased() == tenantId }) {
            return Self.graphError(
                .forbidden, "Forbidden",
                "Missing role permissions on the request. API requires one of "
                    + "'TeamsAppInstallation.ReadWriteForUser.All'."
            )
        }
        switch call.route {
        case .install(let userId, _) where self.configuration.appBlockedByPolicy.contains(userId):
            // Graph's answer for one user whose app permission policy blocks the app (the same code as a missing
            // consent; only the message tells them apart).
            return Self.graphError(
                .forbidden, "Forbidden",
                "App is blocked by app permission policy. TenantId: \(tenantId), UserObjectId: \(userId), "
                    + "AppId: \(self.configuration.teamsAppId), AppType: Private")
        case .install(let userId, let teamsAppId):
            if let throttled = self.throttleInstall(tenantId: tenantId, now: now) { return throttled }
            return self.install(teamsAppId, for: userId, now: now)
        case .list(let userId, _, _) where self.isSettling(userId, now: now):
            return Reply(status: .ok, body: #"{"value":[]}"#)
        case .list(let userId, let teamsAppId, let expandsTeamsApp):
            return self.installedApps(of: userId, teamsAppId: teamsAppId, expandsTeamsApp: expandsTeamsApp)
        case .chat(let userId, _) where self.isSettling(userId, now: now):
            return Self.graphError(.notFound, "NotFound", "The app installation was not found for this user.")
        case .chat(let userId, let installationId):
            return self.chat(of: userId, installationId: installationId, tenantId: token.tenantId)
        case .user, .usersWithAddress, .groupMembers:
            preconditionFailure("directory calls are answered above")
        }
    }

    /// `POST users/{userId}/teamwork/installedApps`: 201 with no body, 409 when the user has the app already.
    /// Graph's installation limits: 30 a second per tenant and 300 across tenants; a 429 with `Retry-After`.
    private mutating func throttleInstall(tenantId: String, now: ContinuousClock.Instant) -> Reply? {
        guard let perTenant = self.configuration.limits.graphInstallWindows,
            let allTenants = self.configuration.limits.graphInstallAllTenantsWindows
        else { return nil }
        let allKey = "\u{0}all-tenants"
        let wait = max(
            self.graphInstallLimiters[tenantId, default: SlidingWindowLimiter(windows: perTenant)].wait(now: now)
                ?? .zero,
            self.graphInstallLimiters[allKey, default: SlidingWindowLimiter(windows: allTenants)].wait(now: now)
                ?? .zero)
        guard wait == .zero else { return self.graphThrottled(wait) }
        self.graphInstallLimiters[tenantId]!.record(now: now)
        self.graphInstallLimiters[allKey]!.record(now: now)
        return nil
    }

    /// Graph's 429, with `Retry-After` in whole seconds (at least 1) for a limit that frees up after `wait`.
    mutating func graphThrottled(_ wait: Duration) -> Reply {
        self.stats.graphThrottled += 1
        var reply = Self.graphError(
            .tooManyRequests, "TooManyRequests", "Too many requests. Retry after the time in Retry-After.")
        let (seconds, attoseconds) = wait.components
        reply.retryAfterSeconds = max(1, Int(seconds) + (attoseconds > 0 ? 1 : 0))
        return reply
    }

    /// Whether the user's Graph installation is still too new for Graph's reads to see it.
    private mutating func isSettling(_ userId: String, now: ContinuousClock.Instant) -> Bool {
        guard let visibleAt = self.graphVisibleAt[userId] else { return false }
        if now < visibleAt {
            self.stats.graphSettlingMisses += 1
            return true
        }
        self.graphVisibleAt[userId] = nil
        return false
    }

    private mutating func install(_ teamsAppId: String?, for userId: String, now: ContinuousClock.Instant) -> Reply {
        guard let teamsAppId else {
            return Self.graphError(
                .badRequest, "BadRequest",
                "The body needs teamsApp@odata.bind: https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/{id}.")
        }
        guard self.isTeamsApp(teamsAppId) else {
            return Self.graphError(
                .notFound, "NotFound", "The app \(teamsAppId) was not found in the organization's app catalog.")
        }
        guard self.installationId(of: userId) == nil else {
            return Self.graphError(.conflict, "Conflict", "App is already installed for this user.")
        }
        self.installedViaGraph[userId] = self.makeInstallationId(userId)
        if self.configuration.graphLag > .zero { self.graphVisibleAt[userId] = now + self.configuration.graphLag }
        self.stats.graphInstalls += 1
        return Reply(status: .created, body: "")
    }

    /// `GET users/{userId}/teamwork/installedApps`: the app's installation when the user has it.
    private func installedApps(of userId: String, teamsAppId: String?, expandsTeamsApp: Bool) -> Reply {
        guard teamsAppId.map(self.isTeamsApp) ?? true, let installationId = self.installationId(of: userId) else {
            return Reply(status: .ok, body: #"{"value":[]}"#)
        }
        var body = #"{"value":[{"id":\#(JSONText.quote(installationId))"#
        if expandsTeamsApp {
            body +=
                #","teamsApp":{"id":\#(JSONText.quote(self.configuration.teamsAppId)),"#
                + #""displayName":\#(JSONText.quote(Self.teamsAppDisplayName)),"distributionMethod":"organization"}"#
        }
        body += "}]}"
        return Reply(status: .ok, body: body)
    }

    /// `GET users/{userId}/teamwork/installedApps/{installationId}/chat`: the user's 1:1 chat with the bot, the
    /// conversation a Bot Connector create for the user returns (opened now when there is none yet).
    private mutating func chat(of userId: String, installationId: String, tenantId: String) -> Reply {
        guard self.installationId(of: userId) == installationId else {
            return Self.graphError(.notFound, "NotFound", "The app installation was not found for this user.")
        }
        let conversationId = self.openChat(
            userId: self.teamsUserId(aadObjectId: userId), aadObjectId: userId, tenantId: tenantId)
        return Reply(status: .ok, body: #"{"id":\#(JSONText.quote(conversationId))}"#)
    }

    /// The installation id of the app for the user (AAD object id), nil when the user does not have it.
    func installationId(of userId: String) -> String? {
        if let installationId = self.installedViaGraph[userId] { return installationId }
        guard !self.lacksBot(userId: self.teamsUserId(aadObjectId: userId), aadObjectId: userId) else { return nil }
        return self.makeInstallationId(userId)
    }

    /// The apps installed through Graph, by user id.
    func graphInstallations() -> [GraphInstallation] {
        self.installedViaGraph.sorted { $0.key < $1.key }.map {
            GraphInstallation(userId: $0.key, installationId: $0.value)
        }
    }

    /// An opaque id like Graph's, the same every time for a user and app.
    private func makeInstallationId(_ userId: String) -> String {
        Data("\(userId)##\(self.configuration.teamsAppId)".utf8).base64EncodedString()
    }

    private func isTeamsApp(_ teamsAppId: String) -> Bool {
        teamsAppId.lowercased() == self.configuration.teamsAppId.lowercased()
    }

    /// Whether the configuration lists the user (by Teams id or AAD object id) in `notInstalled` and the app was not
    /// installed for them since, through Graph or by the user (`POST /emulator/install`).
    func lacksBot(userId: String?, aadObjectId: String?) -> Bool {
        let notInstalled = self.configuration.notInstalled
        guard !notInstalled.isEmpty else { return false }
        if userId.map(self.personalInstalls.contains) == true || aadObjectId.map(self.personalInstalls.contains) == true
        {
            return false
        }
        guard userId.map(notInstalled.contains) == true || aadObjectId.map(notInstalled.contains) == true else {
            return false
        }
        guard !self.installedViaGraph.isEmpty else { return true }
        let objectId = aadObjectId ?? userId.flatMap(self.aadObjectId(teamsUserId:))
        return objectId.flatMap { self.installedViaGraph[$0] } == nil
    }

    /// The Teams id the emulator gives the user with this AAD object id: the roster member's, else `29:1{objectId}`.
    func teamsUserId(aadObjectId: String) -> String {
        self.member(aadObjectId: aadObjectId)?.id ?? "29:1\(aadObjectId)"
    }

    /// The AAD object id behind a Teams user id: the roster member's, else the one `29:1{objectId}` was made from.
    func aadObjectId(teamsUserId: String) -> String? {
        if let member = self.member(id: teamsUserId) { return member.aadObjectId }
        return teamsUserId.hasPrefix("29:1") ? String(teamsUserId.dropFirst(4)) : nil
    }

    /// Graph's error shape: `{"error":{"code":...,"message":...}}`.
    static func graphError(_ status: HTTPResponseStatus, _ code: String, _ message: String) -> Reply {
        self.error(status, code, message)
    }
}
