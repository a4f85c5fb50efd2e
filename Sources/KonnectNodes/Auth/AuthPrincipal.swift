import KonnectCore
import KonnectHTTP
import KonnectSecurity
import KonnectStorage

/// Who is calling, as resolved from a bearer token: a user logged into one organization (T5, A3).
struct Principal: Sendable {
    enum TokenKind: String, Sendable {
        case session
        case personalAccessToken = "personal_access_token"
    }

    var userID: String
    var email: String
    var fullName: String
    var organizationID: String
    var organizationName: String
    var ownerID: String
    var plan: String
    var homeGeo: String
    var tokenKind: TokenKind
    var roles: [RoleAssignment]

    var permissions: Permissions { Permissions(roles) }
    var isOwner: Bool { userID == ownerID }
}

extension AuthNode {
    static let tokenMissing = APIError(
        status: 401, title: "Unauthenticated",
        detail:
            "A valid token is required: send 'Authorization: Bearer <token>' from POST /v3/authenticate or a personal access token"
    )
    static let tokenInvalid = APIError(
        status: 401, title: "Unauthenticated",
        detail: "The token is invalid, expired or revoked; log in again with POST /v3/authenticate")

    /// The 401 for tokens of an organization that nobody can log into any more (D3).
    static func organizationDeactivated(_ id: String, state: String) -> APIError {
        APIError(
            status: 401, title: "Organization Deactivated",
            detail:
                "Organization \(id) is \(state == "inactive" ? "deactivated" : state): nobody can log into it any more. Contact Kong Support to reactivate it.",
            extra: JSONObject([("reason", "organization_deactivated"), ("organization_state", .string(state))]))
    }

    /// Resolves the caller of a customer API request; 401 unless the token is valid for an active organization.
    func principal(_ request: APIRequest) throws(APIError) -> Principal {
        guard let token = request.bearerToken else { throw AuthNode.tokenMissing }
        return try principal(token: token)
    }

    func principal(token: String) throws(APIError) -> Principal {
        guard token.count <= 512 else { throw AuthNode.tokenInvalid }
        let hash = Secrets.sha256Hex(token)
        let now = self.now
        let resolved: Result<Principal, APIError>
        do {
            resolved = try db.write { db -> Result<Principal, APIError> in
                var userID: String
                var organizationID: String
                var kind = Principal.TokenKind.session
                var revoked = false
                if token.hasPrefix("kpat_") {
                    guard let row = try db.query("SELECT * FROM access_tokens WHERE token_hash = ?", .text(hash)).first,
                        let user = row.string("user_id"), let org = row.string("org_id")
                    else { return .failure(AuthNode.tokenInvalid) }
                    revoked = row.int("revoked_at") != nil || (row.time("expires_at").map { $0 <= now } ?? false)
                    if !revoked {
                        try db.execute(
                            "UPDATE access_tokens SET last_used_at = ? WHERE token_hash = ? AND last_used_at IS NOT ?",
                            .time(now), .text(hash),
                            .time(now))
                    }
                    userID = user
                    organizationID = org
                    kind = .personalAccessToken
                } else {
                    guard let row = try db.query("SELECT * FROM sessions WHERE token_hash = ?", .text(hash)).first,
                        let user = row.string("user_id"), let org = row.string("org_id")
                    else { return .failure(AuthNode.tokenInvalid) }
                    revoked = row.bool("revoked") || (row.time("expires_at").map { $0 <= now } ?? false)
                    userID = user
                    organizationID = org
                }
                guard let org = try db.query("SELECT * FROM organizations WHERE id = ?", .text(organizationID)).first,
                    let user = try db.query("SELECT * FROM users WHERE id = ?", .text(userID)).first
                else { return .failure(AuthNode.tokenInvalid) }
                // Tokens of a deactivated organization say so (D3), even though they were revoked with it.
                let state = org.string("state") ?? "active"
                guard state == OrganizationState.active.rawValue else {
                    return .failure(AuthNode.organizationDeactivated(organizationID, state: state))
                }
                guard !revoked, user.bool("active"),
                    try db.query(
                        "SELECT 1 FROM memberships WHERE org_id = ? AND user_id = ?", .text(organizationID),
                        .text(userID)
                    ).first != nil
                else { return .failure(AuthNode.tokenInvalid) }
                return .success(
                    Principal(
                        userID: userID, email: user.string("email") ?? "", fullName: user.string("full_name") ?? "",
                        organizationID: organizationID, organizationName: org.string("name") ?? "",
                        ownerID: org.string("owner_id") ?? "", plan: org.string("plan") ?? "plus",
                        homeGeo: org.string("home_geo") ?? "", tokenKind: kind,
                        roles: try effectiveRoles(db, organizationID: organizationID, userID: userID)))
            }
        } catch {
            throw APIError(status: 500, detail: "The auth node could not read its database: \(error)")
        }
        return try resolved.get()
    }

    /// Roles held directly and through teams.
    func effectiveRoles(_ db: Transaction, organizationID: String, userID: String) throws -> [RoleAssignment] {
        try db.query(
            """
            SELECT role_name, entity_type_name, entity_id, entity_region FROM role_assignments
            WHERE org_id = ? AND (user_id = ? OR team_id IN (SELECT team_id FROM team_members WHERE user_id = ?))
            ORDER BY created_at, id
            """, .text(organizationID), .text(userID), .text(userID)
        ).map {
            RoleAssignment(
                roleName: $0.string("role_name") ?? "", entityTypeName: $0.string("entity_type_name") ?? "",
                entityID: $0.string("entity_id") ?? "*", entityRegion: $0.string("entity_region") ?? "*")
        }
    }

    /// Requires Organization Admin.
    func requireAdmin(_ principal: Principal) throws(APIError) {
        guard principal.permissions.isOrganizationAdmin else {
            throw APIError(
                status: 403, title: "Permission denied", detail: "You must hold the Organization Admin role to do this")
        }
    }

    /// Requires the support credential (D7); customer tokens get 403.
    func requireSupport(_ request: APIRequest) throws(APIError) {
        guard let token = request.bearerToken else {
            throw APIError(
                status: 401, title: "Unauthenticated",
                detail: "Support actions need the support credential (the run directory's support.token)")
        }
        let hash = Secrets.sha256Hex(token)
        let known =
            (try? db.read { db in
                try db.query("SELECT 1 FROM support_credentials WHERE token_hash = ?", .text(hash)).first != nil
            }) ?? false
        guard known else {
            throw APIError(
                status: 403, title: "Permission denied",
                detail: "Support actions need the support credential; customer tokens are not accepted")
        }
    }

    // MARK: - Rendering

    func userJSON(_ row: Row) -> JSON {
        [
            "id": .optional(row.string("id")), "email": .optional(row.string("email")),
            "full_name": .optional(row.string("full_name")),
            "preferred_name": .string(row.string("preferred_name") ?? ""),
            "active": .bool(row.bool("active")), "inferred_region": .string(configuration.geos.first ?? "us"),
            "created_at": row.time("created_at")?.json ?? .null, "updated_at": row.time("updated_at")?.json ?? .null,
        ]
    }

    func organizationJSON(_ row: Row) -> JSON {
        [
            "id": .optional(row.string("id")), "name": .optional(row.string("name")),
            "owner_id": .optional(row.string("owner_id")), "login_path": "",
            "created_at": row.time("created_at")?.json ?? .null, "updated_at": row.time("updated_at")?.json ?? .null,
            "state": .optional(row.string("state")), "retention_period_days": .optional(row.int("retention_days")),
            "plan": .optional(row.string("plan")), "home_geo": .optional(row.string("home_geo")),
        ]
    }

    func assignedRoleJSON(_ row: Row) -> JSON {
        [
            "id": .optional(row.string("id")), "role_name": .optional(row.string("role_name")),
            "entity_id": .optional(row.string("entity_id")),
            "entity_type_name": .optional(row.string("entity_type_name")),
            "entity_region": .optional(row.string("entity_region")),
        ]
    }
}
