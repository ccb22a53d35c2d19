extension BotConnectorClient.Configuration: CustomStringConvertible {
    /// Every setting but the secret, so a configuration can be logged.
    public var description: String {
        "BotConnectorClient.Configuration(appId: \(self.appId), appPassword: <redacted>, tenantId: \(self.tenantId), "
            + "cloud: \(self.cloud.rawValue), tokenURL: \(self.effectiveTokenURL), scope: \(self.effectiveScope), "
            + "defaultServiceUrl: \(self.effectiveDefaultServiceUrl), allowedServiceHosts: \(self.allowedServiceHosts), "
            + "requestTimeout: \(self.requestTimeout), connectTimeout: \(self.connectTimeout), tokenTimeout: \(self.tokenTimeout), "
            + "tokenRefreshMargin: \(self.tokenRefreshMargin), maxActivityBytes: \(self.maxActivityBytes))"
    }
}

extension TokenProvider.Configuration: CustomStringConvertible {
    /// Every setting but the secret.
    public var description: String {
        "TokenProvider.Configuration(tokenURL: \(self.tokenURL), clientId: \(self.clientId), "
            + "clientSecret: <redacted>, scope: \(self.scope), refreshMargin: \(self.refreshMargin), "
            + "timeout: \(self.timeout))"
    }
}
