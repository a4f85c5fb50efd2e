import KonnectCore
import KonnectHTTP

/// `POST /internal/v1/creator-roles` (geos only, over the Unix socket): records that the creator of a
/// control plane is its Admin in that geo (A4, Konnect's `Creator` role). The geo asks before it creates
/// the control plane; asking again changes nothing.
struct CreatorRoleRoutes: Sendable {
    let db: AuthDatabase
    let clock: CalendarClock
    let organizations: OrganizationStore
    let memberships: MembershipStore
    let roles: RoleAssignmentStore
    let geos: [String]

    var routes: [Router.Route] {
        [Router.route("POST", "/internal/v1/creator-roles", unixOnly: true, grant)]
    }

    func grant(_ request: APIRequest) throws -> HTTPResponse {
        let asked: CreatorRoleRequest
        do {
            asked = try CreatorRoleRequest(json: try request.json())
        } catch let error as ContractError {
            throw error.apiError
        }
        guard geos.contains(asked.geo) else {
            throw APIError.invalid(field: "geo", rule: "enum", reason: "must be one of \(geos.joined(separator: ", "))")
        }
        let role = asked.assignment
        let now = clock.now
        let receipt = try db.write { work -> CreatorRoleReceipt in
            guard let organization = try organizations.organization(work.tx, id: asked.organizationID),
                organization.state == .active
            else {
                throw APIError.conflict("Organization \(asked.organizationID) is not active: nobody can create in it")
            }
            guard
                try memberships.member(work.tx, organizationID: asked.organizationID, userID: asked.userID) != nil
            else {
                throw APIError.notFound("User \(asked.userID) is not a member of organization \(asked.organizationID)")
            }
            // Only a creator gets the role: someone whose roles let them create control planes in the geo.
            let held = try roles.effectiveRoles(work.tx, userID: asked.userID, organizationID: asked.organizationID)
            guard Permissions(held).canCreateControlPlanes(geo: asked.geo) else {
                throw APIError(
                    status: 403, title: "Permission denied",
                    detail: "User \(asked.userID) may not create control planes in geo \(asked.geo)")
            }
            if let existing = try roles.assignmentID(
                work.tx, role, of: .user(asked.userID), organizationID: asked.organizationID)
            {
                return CreatorRoleReceipt(assignmentID: existing, role: role, created: false)
            }
            let id = try roles.assign(
                work, role, to: .user(asked.userID), organizationID: asked.organizationID, at: now)
            return CreatorRoleReceipt(assignmentID: id, role: role, created: true)
        }
        if receipt.created {
            Log.info(
                "user \(asked.userID) is Admin of control plane \(asked.controlPlaneID) in \(asked.geo), which they create"
            )
        }
        return HTTPResponse.json(receipt.json, status: receipt.created ? 201 : 200)
    }
}
