import KonnectCore
import KonnectStorage

/// Who holds a session or access token, read in one statement on the request path (T5, A3): the
/// token's own state, its user, its organization and whether the user still belongs to it. The rules
/// that turn this into a principal or a 401 live in `PrincipalResolver`.
struct TokenHolder: Sendable {
    /// The access token's id (nil for a session).
    var tokenID: String?
    var revoked: Bool
    var expiresAt: SimTime?
    var userID: String
    var email: String
    var fullName: String
    var userActive: Bool
    var organizationID: String
    var organizationName: String
    var ownerID: String
    var plan: PlanKind
    var homeGeo: String
    var organizationState: OrganizationState
    var isMember: Bool

    /// Reads the columns the holder queries of `SessionStore` and `AccessTokenStore` select.
    init(_ row: Row) {
        tokenID = row.string("token_id")
        revoked = row.bool("revoked")
        expiresAt = row.time("expires_at")
        userID = row.string("user_id") ?? ""
        email = row.string("email") ?? ""
        fullName = row.string("full_name") ?? ""
        userActive = row.bool("active")
        organizationID = row.string("org_id") ?? ""
        organizationName = row.string("name") ?? ""
        ownerID = row.string("owner_id") ?? ""
        plan = PlanKind(rawValue: row.string("plan") ?? "") ?? .plus
        homeGeo = row.string("home_geo") ?? ""
        organizationState = OrganizationState(rawValue: row.string("state") ?? "") ?? .active
        isMember = row.bool("member")
    }
}
