/// The body of `POST /emulator/config`: every field optional; lists and maps replace what was there.
///
/// ```json
/// {"limits": "scaled:10", "retryAfter": "always", "latencyMs": 5, "faultRate": 0.1,
///  "faults": {"412": 0.0, "429": 0.0, "502": 0.0, "503": 0.5, "504": 0.0, "drop": 0.0, "graph429": 0.0},
///  "blocked": [{"id": "29:1abc", "shape": "messageWritesBlocked"}], "notInstalled": ["29:1def"],
///  "disabledTenants": [], "removedFromConversations": [], "tokenLifetimeSeconds": 60,
///  "teams": {"19:team@thread.tacv2": [{"id": "29:1a", "name": "Ada", "aadObjectId": "..."}]},
///  "teamTenants": {"19:team@thread.tacv2": "tenant-id"}, "homeTenant": "",
///  "teamsAppId": "00000000-0000-0000-0000-00000000a99a", "graphConsentMissing": ["tenant-id"],
///  "appBlockedByPolicy": ["aad-object-id"], "notInstalledWithoutCode": false, "graphLagMs": 0,
///  "botEndpoint": "http://127.0.0.1:3978/api/messages", "invokeTimeoutMs": 5000,
///  "directoryUsers": [{"id": "aad-1", "userPrincipalName": "ada@contoso.com", "mail": "ada@contoso.com",
///    "proxyAddresses": ["SMTP:ada@contoso.com"], "accountEnabled": true}],
///  "directoryConsentMissing": {"tenant-id": ["GroupMember.Read.All"]},
///  "directoryGroups": {"group-id": {"users": ["aad-1"], "groups": ["nested-group-id"]}},
///  "groupsRepeatMembers": false,
///  "teamChannels": {"19:team@thread.tacv2": [{"id": "19:team@thread.tacv2"}, {"id": "19:x", "name": "Incidents"}]}}
/// ```
struct ConfigUpdate: Decodable {
    struct Invalid: Error {
        var message: String
    }

    struct Faults: Decodable {
        var preconditionFailed: Double?
        var badGateway: Double?
        var serviceUnavailable: Double?
        var gatewayTimeout: Double?
        var drop: Double?
        var throttled: Double?
        var graph429: Double?

        enum CodingKeys: String, CodingKey {
            case preconditionFailed = "412"
            case badGateway = "502"
            case serviceUnavailable = "503"
            case gatewayTimeout = "504"
            case drop
            case throttled = "429"
            case graph429
        }
    }

    struct Blocked: Decodable {
        var id: String
        var shape: String?
    }

    struct Member: Decodable {
        var id: String
        var name: String?
        var aadObjectId: String?
    }

    struct DirectoryUser: Decodable {
        var id: String
        var userPrincipalName: String
        var mail: String?
        var proxyAddresses: [String]?
        var accountEnabled: Bool?
    }

    struct Group: Decodable {
        var users: [String]?
        var groups: [String]?
    }

    struct Channel: Decodable {
        var id: String
        var name: String?
    }

    var limits: String?
    var retryAfter: String?
    var latencyMs: Int?
    var faultRate: Double?
    var faults: Faults?
    var blocked: [Blocked]?
    var notInstalled: [String]?
    var disabledTenants: [String]?
    var removedFromConversations: [String]?
    var gccTenants: [String]?
    var movedTenants: [String: String]?
    var movedTenantAnswer: String?
    var teams: [String: [Member]]?
    var teamTenants: [String: String]?
    var homeTenant: String?
    var tokenLifetimeSeconds: Int?
    var teamsAppId: String?
    var graphConsentMissing: [String]?
    var appBlockedByPolicy: [String]?
    var directoryUsers: [DirectoryUser]?
    var directoryConsentMissing: [String: [String]]?
    var directoryGroups: [String: Group]?
    var groupsRepeatMembers: Bool?
    var teamChannels: [String: [Channel]]?
    var notInstalledWithoutCode: Bool?
    var graphLagMs: Int?
    var botEndpoint: String?
    var invokeTimeoutMs: Int?

    func apply(to configuration: inout EmulatorConfiguration) throws(Invalid) {
        if let limits {
            guard let mode = LimitMode(limits) else { throw Invalid(message: "limits must be teams, off or scaled:K") }
            configuration.limits = mode
        }
        if let retryAfter {
            guard let mode = EmulatorConfiguration.RetryAfterMode(rawValue: retryAfter) else {
                throw Invalid(message: "retryAfter must be always, never or alternate")
            }
            configuration.retryAfter = mode
        }
        if let latencyMs {
            guard latencyMs >= 0 else { throw Invalid(message: "latencyMs must not be negative") }
            configuration.latency = .milliseconds(latencyMs)
        }
        if let faultRate {
            guard (0...1).contains(faultRate) else { throw Invalid(message: "faultRate must be within 0...1") }
            let (drop, graph429) = (configuration.faults.dropConnection, configuration.faults.graph429)
            configuration.faults = EmulatorConfiguration.Faults(rate: faultRate)
            configuration.faults.dropConnection = drop
            configuration.faults.graph429 = graph429
        }
        if let faults {
            var merged = configuration.faults
            merged.preconditionFailed = faults.preconditionFailed ?? merged.preconditionFailed
            merged.badGateway = faults.badGateway ?? merged.badGateway
            merged.serviceUnavailable = faults.serviceUnavailable ?? merged.serviceUnavailable
            merged.gatewayTimeout = faults.gatewayTimeout ?? merged.gatewayTimeout
            merged.dropConnection = faults.drop ?? merged.dropConnection
            merged.throttled = faults.throttled ?? merged.throttled
            let rates = [
                merged.preconditionFailed, merged.badGateway, merged.serviceUnavailable, merged.gatewayTimeout,
                merged.dropConnection, merged.throttled,
            ]
            guard rates.allSatisfy({ (0...1).contains($0) }), merged.total <= 1 else {
                throw Invalid(message: "fault rates must be within 0...1 and add up to at most 1")
            }
            if let graph429 = faults.graph429 {
                guard (0...1).contains(graph429) else { throw Invalid(message: "graph429 must be within 0...1") }
                merged.graph429 = graph429
            }
            configuration.faults = merged
        }
        if let blocked {
            var map: [String: EmulatorConfiguration.BlockShape] = [:]
            for entry in blocked {
                let shape = EmulatorConfiguration.BlockShape(rawValue: entry.shape ?? "messageWritesBlocked")
                guard let shape else {
                    throw Invalid(
                        message: "blocked shape must be messageWritesBlocked, conversationBlockedByUser or noSubCode")
                }
                map[entry.id] = shape
            }
            configuration.blocked = map
        }
        if let notInstalled { configuration.notInstalled = Set(notInstalled) }
        if let disabledTenants { configuration.disabledTenants = Set(disabledTenants) }
        if let removedFromConversations { configuration.removedFromConversations = Set(removedFromConversations) }
        if let gccTenants { configuration.gccTenants = Set(gccTenants) }
        if let movedTenants {
            guard movedTenants.values.allSatisfy(EmulatorConfiguration.isValidBotEndpoint) else {
                throw Invalid(message: "movedTenants' serviceUrls must be absolute http(s) URLs")
            }
            configuration.movedTenants = movedTenants
        }
        if let movedTenantAnswer {
            guard let answer = EmulatorConfiguration.MovedTenantAnswer(rawValue: movedTenantAnswer) else {
                throw Invalid(message: "movedTenantAnswer must be forbidden, badRequest or redirect")
            }
            configuration.movedTenantAnswer = answer
        }
        if let teamTenants { configuration.teamTenants = teamTenants }
        if let homeTenant { configuration.homeTenant = homeTenant.isEmpty ? nil : homeTenant }
        if let teams {
            configuration.teams = teams.mapValues { members in
                members.map { EmulatorConfiguration.Member(id: $0.id, name: $0.name, aadObjectId: $0.aadObjectId) }
            }
        }
        if let tokenLifetimeSeconds {
            guard tokenLifetimeSeconds >= 1 else { throw Invalid(message: "tokenLifetimeSeconds must be at least 1") }
            configuration.tokenLifetime = .seconds(tokenLifetimeSeconds)
        }
        if let teamsAppId {
            guard !teamsAppId.isEmpty else { throw Invalid(message: "teamsAppId must not be empty") }
            configuration.teamsAppId = teamsAppId
        }
        if let graphConsentMissing { configuration.graphConsentMissing = Set(graphConsentMissing) }
        if let appBlockedByPolicy { configuration.appBlockedByPolicy = Set(appBlockedByPolicy) }
        if let directoryUsers {
            guard directoryUsers.allSatisfy({ !$0.id.isEmpty && !$0.userPrincipalName.isEmpty }) else {
                throw Invalid(message: "directoryUsers need an id and a userPrincipalName")
            }
            configuration.directoryUsers = directoryUsers.map {
                EmulatorConfiguration.DirectoryUser(
                    id: $0.id, userPrincipalName: $0.userPrincipalName, mail: $0.mail,
                    proxyAddresses: $0.proxyAddresses ?? [], accountEnabled: $0.accountEnabled ?? true)
            }
        }
        if let directoryConsentMissing {
            configuration.directoryConsentMissing = directoryConsentMissing.mapValues(Set.init)
        }
        if let directoryGroups {
            configuration.directoryGroups = directoryGroups.mapValues {
                EmulatorConfiguration.DirectoryGroup(users: $0.users ?? [], groups: $0.groups ?? [])
            }
        }
        if let groupsRepeatMembers { configuration.groupsRepeatMembers = groupsRepeatMembers }
        if let teamChannels {
            guard teamChannels.values.allSatisfy({ $0.allSatisfy { !$0.id.isEmpty } }) else {
                throw Invalid(message: "teamChannels need an id each")
            }
            configuration.teamChannels = teamChannels.mapValues { $0.map { .init(id: $0.id, name: $0.name) } }
        }
        if let notInstalledWithoutCode { configuration.notInstalledWithoutCode = notInstalledWithoutCode }
        if let graphLagMs {
            guard graphLagMs >= 0 else { throw Invalid(message: "graphLagMs must not be negative") }
            configuration.graphLag = .milliseconds(graphLagMs)
        }
        if let botEndpoint {
            guard EmulatorConfiguration.isValidBotEndpoint(botEndpoint) else {
                throw Invalid(message: "botEndpoint must be an absolute http(s) URL")
            }
            configuration.botEndpoint = botEndpoint
        }
        if let invokeTimeoutMs {
            guard invokeTimeoutMs >= 1 else { throw Invalid(message: "invokeTimeoutMs must be at least 1") }
            configuration.invokeTimeout = .milliseconds(invokeTimeoutMs)
        }
    }
}
