import Foundation

extension EmulatorConfiguration {
    /// This configuration as a `POST /emulator/config` body, for an emulator in a process of its own
    /// (`herald emulator`): limits, latency, faults, refusals, rosters, channels, the app's catalog id, Graph's
    /// consent and the directory. The app's credentials are `herald emulator`'s own options.
    public func configBody() -> [UInt8] {
        func milliseconds(_ duration: Duration) -> Int {
            Int(duration.components.seconds * 1000) + Int(duration.components.attoseconds / 1_000_000_000_000_000)
        }
        var body: [String: Any] = [
            "limits": self.limits.description,
            "retryAfter": self.retryAfter.rawValue,
            "latencyMs": milliseconds(self.latency),
            "faults": [
                "412": self.faults.preconditionFailed, "429": self.faults.throttled, "502": self.faults.badGateway,
                "503": self.faults.serviceUnavailable, "504": self.faults.gatewayTimeout,
                "drop": self.faults.dropConnection, "graph429": self.faults.graph429,
            ],
            "blocked": self.blocked.sorted { $0.key < $1.key }.map { ["id": $0.key, "shape": $0.value.rawValue] },
            "notInstalled": self.notInstalled.sorted(),
            "disabledTenants": self.disabledTenants.sorted(),
            "removedFromConversations": self.removedFromConversations.sorted(),
            "gccTenants": self.gccTenants.sorted(),
            "movedTenants": self.movedTenants,
            "movedTenantAnswer": self.movedTenantAnswer.rawValue,
            "teamTenants": self.teamTenants,
            "teamsAppId": self.teamsAppId,
            "graphConsentMissing": self.graphConsentMissing.sorted(),
            "appBlockedByPolicy": self.appBlockedByPolicy.sorted(),
            "notInstalledWithoutCode": self.notInstalledWithoutCode,
            "graphLagMs": milliseconds(self.graphLag),
            "directoryConsentMissing": self.directoryConsentMissing.mapValues { $0.sorted() },
            "groupsRepeatMembers": self.groupsRepeatMembers,
            "invokeTimeoutMs": max(1, milliseconds(self.invokeTimeout)),
            "teams": self.teams.mapValues { members in
                members.map { member -> [String: String] in
                    var entry = ["id": member.id]
                    entry["name"] = member.name
                    entry["aadObjectId"] = member.aadObjectId
                    return entry
                }
            },
            "teamChannels": self.teamChannels.mapValues { channels in
                channels.map { channel -> [String: String] in
                    var entry = ["id": channel.id]
                    entry["name"] = channel.name
                    return entry
                }
            },
            "directoryUsers": self.directoryUsers.map { user -> [String: Any] in
                var entry: [String: Any] = [
                    "id": user.id, "userPrincipalName": user.userPrincipalName, "proxyAddresses": user.proxyAddresses,
                    "accountEnabled": user.accountEnabled,
                ]
                entry["mail"] = user.mail
                return entry
            },
            "directoryGroups": self.directoryGroups.mapValues { ["users": $0.users, "groups": $0.groups] },
        ]
        if let homeTenant = self.homeTenant { body["homeTenant"] = homeTenant }
        if let botEndpoint = self.botEndpoint { body["botEndpoint"] = botEndpoint }
        return [UInt8]((try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data("{}".utf8))
    }
}
