import KonnectCore
import KonnectHTTP

/// Who is calling a geo API, as the auth node resolved the token (T5).
struct Caller: Sendable {
    var introspection: Introspection

    var userID: String { introspection.user.id }
    var organizationID: String { introspection.organization.id }
    var roles: [RoleAssignment] { introspection.roles }
    /// The calendar's moment when the auth node answered.
    var now: SimTime { introspection.now }
    var permissions: Permissions { Permissions(roles) }
}

/// Resolves every request's bearer token at the auth node (T5): 401 as the auth node says, 503 when it
/// cannot be reached within the budget or answers something this geo does not understand. Requests
/// waiting at the same time share one round trip (`IntrospectionBatcher`), each still answered by an
/// ask sent after it arrived. Notes the calendar's moment and the organization's licenses the answer
/// carries, in memory only.
struct Authenticator: Sendable {
    let batcher: IntrospectionBatcher
    let calendar: GeoCalendar
    let licenses: LicenseBook

    /// The auth node must answer within this budget, or the geo answers 503 (T5).
    static let budgetMilliseconds = 800

    init(client: HTTPClient, calendar: GeoCalendar, licenses: LicenseBook) {
        batcher = IntrospectionBatcher(client: client, budgetMilliseconds: Authenticator.budgetMilliseconds)
        self.calendar = calendar
        self.licenses = licenses
    }

    func caller(_ request: APIRequest) throws(APIError) -> Caller {
        guard let token = request.bearerToken else {
            throw APIError(
                status: 401, title: "Unauthenticated",
                detail: "A valid token is required: send 'Authorization: Bearer <token>'")
        }
        // A token the auth node would not read gets the 400 it would answer, passed on as a 401.
        if let problem = IntrospectionRequest.problem(token: token) {
            throw Authenticator.unauthenticated(problem)
        }
        let introspection = try batcher.introspect(token).get()
        calendar.note(introspection.now)
        licenses.note(
            OrganizationLicenses(gateway: introspection.gatewayLicense, mesh: introspection.meshLicense),
            organization: introspection.organization.id)
        return Caller(introspection: introspection)
    }

    /// The auth node's 401 (or 400 for a malformed token), passed on as a 401 with its reason.
    static func unauthenticated(_ problem: APIError) -> APIError {
        var extra = JSONObject()
        for key in ["reason", "organization_state", "expired_at"] {
            if let value = problem.extra[key] { extra[key] = value }
        }
        return APIError(status: 401, title: problem.title, detail: problem.detail, extra: extra)
    }

    static func unavailable(_ why: String) -> APIError {
        APIError(
            status: 503, title: "Auth Node Unavailable",
            detail:
                "The auth node is unavailable, so this geo cannot authenticate the request (\(why)). Retry when it is back.",
            extra: JSONObject([("reason", "auth_node_unavailable")]))
    }

    /// The auth node answered, but not with an introspection this geo understands (a version mismatch):
    /// never guessed at, since a missing organization id would scope the request to nobody.
    static func unexpectedAnswer(_ error: ContractError) -> APIError {
        APIError(
            status: 503, title: "Auth Node Unavailable",
            detail:
                "The auth node sent something this geo does not understand, so it cannot authenticate the request (\(error)). Retry later; if it persists, the auth node and this geo run different versions.",
            extra: JSONObject([("reason", "auth_node_unavailable")]))
    }
}
