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
/// cannot be reached within the budget or answers something this geo does not understand. Notes the
/// calendar's moment and the organization's licenses the answer carries, in memory only.
struct Authenticator: Sendable {
    let client: HTTPClient
    let calendar: GeoCalendar
    let licenses: LicenseBook

    /// The auth node must answer within this budget, or the geo answers 503 (T5).
    static let budgetMilliseconds = 800

    func caller(_ request: APIRequest) throws(APIError) -> Caller {
        guard let token = request.bearerToken else {
            throw APIError(
                status: 401, title: "Unauthenticated",
                detail: "A valid token is required: send 'Authorization: Bearer <token>'")
        }
        let response: ClientResponse
        do {
            response = try client.json("POST", "/internal/v1/introspect", IntrospectionRequest(token: token).json)
        } catch {
            throw Authenticator.unavailable(error.description)
        }
        switch response.status {
        case 200:
            break
        case 400, 401:
            if let problem = response.json { throw Authenticator.unauthenticated(problem) }
            throw Authenticator.unavailable("it answered \(response.status) without a problem document")
        default:
            throw Authenticator.unavailable("it answered \(response.status)")
        }
        let introspection: Introspection
        do {
            introspection = try Introspection(json: response.json ?? .null)
        } catch {
            Log.error("the auth node sent an introspection answer this geo does not understand: \(error)")
            throw Authenticator.unexpectedAnswer(error)
        }
        calendar.note(introspection.now)
        licenses.note(
            OrganizationLicenses(gateway: introspection.gatewayLicense, mesh: introspection.meshLicense),
            organization: introspection.organization.id)
        return Caller(introspection: introspection)
    }

    /// The auth node's 401 (or 400 for a malformed token), passed on as a 401 with its reason.
    static func unauthenticated(_ problem: JSON) -> APIError {
        var extra = JSONObject()
        for key in ["reason", "organization_state", "expired_at"] {
            if let value = problem[key] { extra[key] = value }
        }
        return APIError(
            status: 401, title: problem["title"]?.stringValue ?? "Unauthenticated",
            detail: problem["detail"]?.stringValue ?? "The auth node did not accept the token", extra: extra)
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
