import KonnectCore
import KonnectHTTP

/// The caller's organization: settings, ownership, licenses, the role catalog, and deactivation by an
/// admin (A2, A4, A5, D1, P3).
struct OrganizationRoutes: Sendable {
    let db: AuthDatabase
    let clock: CalendarClock
    let principals: PrincipalResolver
    let organizations: OrganizationStore
    let lookup: OrganizationLookup
    let licenses: LicenseListing
    let roles: RoleAssignmentStore
    let members: MemberLookup
    let transitions: OrganizationTransitions

    var routes: [Router.Route] {
        [
            Router.route("GET", "/v3/organizations/me") { request in
                let principal = try principals.principal(request)
                return HTTPResponse.json(try organization(principal.organizationID).json)
            },
            Router.route("PATCH", "/v3/organizations/me", update),
            Router.route("PUT", "/v3/organizations/me/owner", transferOwnership),
            Router.route("POST", "/v3/organizations/me/deactivate", deactivate),
            Router.route("GET", "/v3/organizations/me/licenses") { request in
                let principal = try principals.principal(request)
                return HTTPResponse.json(["data": .array(try licenses.licenses(of: principal.organizationID))])
            },
            Router.route("GET", "/v3/roles") { request in
                _ = try principals.principal(request)
                return HTTPResponse.json(RoleCatalog.json)
            },
        ]
    }

    private func organization(_ id: String) throws -> OrganizationRecord { try lookup.organization(id) }

    func update(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try principals.principal(request)
        try principal.requireAdmin()
        var reader = try ObjectReader(request.json())
        let name = reader.string("name", nullable: false, minLength: 1, maxLength: 250)
        let retention = reader.int(
            "retention_period_days", nullable: false, min: OrganizationLifecycle.retentionRange.lowerBound,
            max: OrganizationLifecycle.retentionRange.upperBound)
        try reader.finish()
        let now = clock.now
        try db.write { work in
            if let name { try organizations.rename(work, id: principal.organizationID, to: name, at: now) }
            if let retention {
                try organizations.setRetention(work, id: principal.organizationID, days: retention, at: now)
            }
        }
        return HTTPResponse.json(try organization(principal.organizationID).json)
    }

    /// `PUT /v3/organizations/me/owner`: the owner hands ownership to another Organization Admin (A2).
    func transferOwnership(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try principals.principal(request)
        guard principal.isOwner else {
            throw APIError(status: 403, title: "Permission denied", detail: "Only the owner can transfer ownership")
        }
        var reader = try ObjectReader(request.json())
        let userID = reader.string("user_id", required: true, nullable: false, maxLength: 64)
        try reader.finish()
        guard let userID else { throw APIError.badRequest("Invalid request") }
        _ = try members.member(principal, userID)
        let isAdmin = try db.read { tx in
            Permissions(try roles.effectiveRoles(tx, userID: userID, organizationID: principal.organizationID))
                .isOrganizationAdmin
        }
        guard isAdmin else {
            throw APIError.invalid(
                field: "user_id", rule: "invalid", reason: "must be an Organization Admin of this organization")
        }
        let now = clock.now
        try db.write { work in
            try organizations.setOwner(work, id: principal.organizationID, userID: userID, at: now)
            // The owner always holds Organization Admin directly (A2), not only through a team that could go.
            if try !roles.holdsOrganizationAdminDirectly(
                work.tx, userID: userID, organizationID: principal.organizationID)
            {
                try roles.assign(
                    work, RoleCatalog.organizationAdmin, to: .user(userID), organizationID: principal.organizationID,
                    at: now)
            }
        }
        return HTTPResponse.json(try organization(principal.organizationID).json)
    }

    /// `POST /v3/organizations/me/deactivate`: an Organization Admin closes the organization (D1).
    func deactivate(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try principals.principal(request)
        try principal.requireAdmin()
        let now = clock.now
        let transition = try db.write { work in
            try transitions.deactivate(
                work, organizationID: principal.organizationID, reason: .adminDeactivated,
                actor: "user:\(principal.userID)", at: now)
        }
        Log.info(OrganizationTransitions.describe(transition, of: principal.organizationID))
        return HTTPResponse.json(try organization(principal.organizationID).json)
    }
}
