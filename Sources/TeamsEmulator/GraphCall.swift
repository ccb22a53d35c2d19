/// One Microsoft Graph call, parsed (and its body read) before the state lock is taken.
struct GraphCall: Sendable {
    enum Route: Sendable {
        /// `POST users/{userId}/teamwork/installedApps`: the app id from the body's `teamsApp@odata.bind`, nil when
        /// the body has no usable one.
        case install(userId: String, teamsAppId: String?)
        /// `GET users/{userId}/teamwork/installedApps`: the app id `$filter` asks for (nil: any), and whether
        /// `$expand` asks for the app.
        case list(userId: String, teamsAppId: String?, expandsTeamsApp: Bool)
        /// `GET users/{userId}/teamwork/installedApps/{installationId}/chat`.
        case chat(userId: String, installationId: String)
        /// `GET users/{id | userPrincipalName}`.
        case user(String)
        /// `GET users?$filter=` by mail or proxy address, with the advanced-query headers Graph requires.
        case usersWithAddress(String)
        /// `GET groups/{id}/transitiveMembers/microsoft.graph.user`: `top` users from position `skip`.
        case groupMembers(groupId: String, top: Int, skip: Int)
    }

    var route: Route
    /// `{origin}/graph/v1.0/`: where a next page's link points.
    var base = ""
    var authorization: String?
}
