import NIOHTTP1

extension EmulatorState {
    /// `POST /{tenant}/oauth2/v2.0/token` with a client-credentials form: a Bot Connector token for the configured
    /// `scope`, a Microsoft Graph token for `graphScope`, remembered with the tenant of the URL.
    mutating func issueToken(form: [String: String], tenantId: String, now: ContinuousClock.Instant) -> Reply {
        let newToken = "emu." + String(self.random.next(), radix: 36) + String(self.random.next(), radix: 36)
        let reply = self.tokenReply(form: form, tenantId: tenantId, now: now, newToken: newToken)
        self.count(reply)
        return reply
    }

    private mutating func tokenReply(
        form: [String: String],
        tenantId: String,
        now: ContinuousClock.Instant,
        newToken: String
    ) -> Reply {
        func oauthError(_ status: HTTPResponseStatus, _ error: String, _ description: String) -> Reply {
            Reply(
                status: status,
                body:
                    #"{"error":"\#(error)","error_description":\#(JSONText.quote(description + "\r\nTrace ID: emu"))}"#)
        }
        guard form["grant_type"] == "client_credentials" else {
            return oauthError(.badRequest, "unsupported_grant_type", "Only client_credentials is supported.")
        }
        let appId = form["client_id"] ?? ""
        let directory = tenantId.lowercased() == "botframework.com" ? "Bot Framework" : tenantId
        let notFound =
            "AADSTS700016: Application with identifier '\(appId)' was not found in the directory '\(directory)'. "
            + "This can happen if the application has not been installed by the administrator of the tenant or "
            + "consented to by any user in the tenant."
        guard appId == self.configuration.appId else {
            return oauthError(.badRequest, "unauthorized_client", notFound)
        }
        if let home = self.configuration.homeTenant, home.lowercased() != tenantId.lowercased() {
            // A single-tenant app exists only in its own directory.
            return oauthError(.badRequest, "unauthorized_client", notFound)
        }
        guard form["client_secret"] == self.configuration.appPassword else {
            return oauthError(
                .unauthorized, "invalid_client",
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the "
                    + "client secret value, not the client secret ID, for a secret added to app '\(appId)'.")
        }
        let audience: IssuedToken.Audience
        if form["scope"] == self.configuration.scope {
            audience = .botConnector
        } else if form["scope"] == self.configuration.graphScope {
            audience = .graph
        } else {
            return oauthError(.badRequest, "invalid_scope", "The provided scope is not valid.")
        }
        if self.tokens.count > 64 {
            self.tokens = self.tokens.filter { $0.value.expiry > now }
        }
        let lifetime = self.configuration.tokenLifetime
        self.tokens[newToken] = IssuedToken(expiry: now + lifetime, audience: audience, tenantId: tenantId)
        self.stats.tokensIssued += 1
        let seconds = lifetime.components.seconds
        return Reply(
            status: .ok,
            body:
                #"{"token_type":"Bearer","expires_in":\#(seconds),"ext_expires_in":\#(seconds),"access_token":"\#(newToken)"}"#
        )
    }

    /// Whether `authorization` carries a Bot Connector token this emulator issued that has not expired.
    func isAuthorized(_ authorization: String?, now: ContinuousClock.Instant) -> Bool {
        self.token(authorization, now: now)?.audience == .botConnector
    }

    /// The unexpired token `authorization` carries, if this emulator issued it.
    func token(_ authorization: String?, now: ContinuousClock.Instant) -> IssuedToken? {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return nil }
        guard let token = self.tokens[String(authorization.dropFirst(7))], now < token.expiry else { return nil }
        return token
    }
}
