import KonnectCore
import KonnectHTTP
import KonnectSecurity
import KonnectStorage

/// Who is calling, as resolved from a bearer token: a user logged into one organization (T5, A3).
struct Principal: Sendable {
    var userID: String
    var email: String
    var fullName: String
    var organizationID: String
    var organizationName: String
    var ownerID: String
    var plan: PlanKind
    var homeGeo: String
    var tokenKind: Introspection.TokenKind
    var roles: [RoleAssignment]

    var permissions: Permissions { Permissions(roles) }
    var isOwner: Bool { userID == ownerID }

    /// Requires Organization Admin (A2, A4).
    func requireAdmin() throws(APIError) {
        guard permissions.isOrganizationAdmin else { throw AuthProblem.adminRequired }
    }
}

/// Resolves bearer tokens to principals. A pure read: the moment a personal access token was used is
/// written behind (`AccessTokenUses`), never on the request path.
struct PrincipalResolver: Sendable {
    let db: AuthDatabase
    let clock: CalendarClock
    let sessions: SessionStore
    let accessTokens: AccessTokenStore
    let roles: RoleAssignmentStore
    let tokenUses: AccessTokenUses

    /// The caller of a customer API request; 401 unless the token is valid for an active organization.
    func principal(_ request: APIRequest) throws(APIError) -> Principal {
        guard let token = request.bearerToken else { throw AuthProblem.tokenMissing }
        return try principal(token: token)
    }

    func principal(token: String) throws(APIError) -> Principal {
        let resolved: Result<Principal, APIError>
        do {
            resolved = try db.read { tx in try resolve(tx, token: token) }
        } catch {
            throw AuthProblem.storage(error)
        }
        return try resolved.get()
    }

    /// Resolves a token inside a read (introspection reads the licenses in the same snapshot). Without
    /// `withRoles`, the principal's roles are left empty (for answers that do not authorize anything).
    func resolve(_ tx: Transaction, token: String, withRoles: Bool = true) throws -> Result<Principal, APIError> {
        guard token.count <= 512 else { return .failure(AuthProblem.tokenInvalid) }
        let hash = Secrets.sha256Hex(token)
        let now = clock.now
        let isAccessToken = token.hasPrefix("kpat_")
        let found =
            isAccessToken
            ? try accessTokens.holder(tx, tokenHash: hash) : try sessions.holder(tx, tokenHash: hash)
        guard let holder = found else { return .failure(AuthProblem.tokenInvalid) }
        // Tokens of a deactivated organization say so (D3), even though they were revoked with it.
        guard holder.organizationState == .active else {
            return .failure(AuthProblem.organizationDeactivated(holder.organizationID, state: holder.organizationState))
        }
        guard !holder.revoked, holder.userActive, holder.isMember else { return .failure(AuthProblem.tokenInvalid) }
        if let expiresAt = holder.expiresAt, expiresAt <= now {
            return .failure(AuthProblem.tokenExpired(isAccessToken ? .personalAccessToken : .session, at: expiresAt))
        }
        if let tokenID = holder.tokenID { tokenUses.record(now, for: tokenID) }
        return .success(
            Principal(
                userID: holder.userID, email: holder.email, fullName: holder.fullName,
                organizationID: holder.organizationID, organizationName: holder.organizationName,
                ownerID: holder.ownerID, plan: holder.plan, homeGeo: holder.homeGeo,
                tokenKind: isAccessToken ? .personalAccessToken : .session,
                roles: withRoles
                    ? try roles.effectiveRoles(tx, userID: holder.userID, organizationID: holder.organizationID) : []))
    }
}

/// Admits support actions (D7): the support credential, never a customer token (403).
struct SupportGate: Sendable {
    let db: AuthDatabase
    let credentials: SupportCredentialStore

    func require(_ request: APIRequest) throws(APIError) {
        guard let token = request.bearerToken else {
            throw APIError(
                status: 401, title: "Unauthenticated",
                detail: "Support actions need the support credential (the run directory's support.token)")
        }
        let hash = Secrets.sha256Hex(token)
        let known: Bool
        do {
            known = try db.read { tx in try credentials.isKnown(tx, tokenHash: hash) }
        } catch {
            throw AuthProblem.storage(error)
        }
        guard known else {
            throw APIError(
                status: 403, title: "Permission denied",
                detail: "Support actions need the support credential; customer tokens are not accepted")
        }
    }
}
