/// One Bot Connector API call, parsed (and its body validated) before the state lock is taken.
struct APICall: Sendable {
    enum Route: Sendable {
        case create
        case send(conversationId: String)
        case update(conversationId: String, activityId: String)
        case delete(conversationId: String, activityId: String)
        case members(conversationId: String, pageSize: Int?, continuationToken: String?)
        /// `GET v3/teams/{teamId}/conversations`: the team's channels.
        case channels(teamId: String)
    }

    enum Body: Sendable {
        case none
        case tooLarge
        case invalid(String)
        case activity(Validation.ActivityInfo, [UInt8])
        case create(Validation.CreateInfo)
    }

    var route: Route
    /// The serviceUrl path before `/v3/conversations` (`/teams`, `/gcc/teams`, empty).
    var prefix: Substring = ""
    var authorization: String?
    var body: Body
}
