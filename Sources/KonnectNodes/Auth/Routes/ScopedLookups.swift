import KonnectCore

/// Finds a member of the caller's organization by the id in a path or body: 400 unless a UUID, 404
/// for anyone else (other organizations' users do not exist here).
struct MemberLookup: Sendable {
    let db: AuthDatabase
    let memberships: MembershipStore

    func member(_ principal: Principal, _ userID: String) throws -> UserRecord {
        try AuthProblem.requireUUID(userID, field: "userId")
        guard
            let member = try db.read({ tx in
                try memberships.member(tx, organizationID: principal.organizationID, userID: userID)
            })
        else { throw APIError.notFound("The requested user was not found") }
        return member
    }
}

/// Finds a team of the caller's organization by the id in a path: 400 unless a UUID, 404 for other
/// organizations' teams.
struct TeamLookup: Sendable {
    let db: AuthDatabase
    let teams: TeamStore

    func team(_ principal: Principal, _ id: String) throws -> TeamRecord {
        try AuthProblem.requireUUID(id, field: "teamId")
        guard let team = try db.read({ tx in try teams.team(tx, id: id, organizationID: principal.organizationID) })
        else { throw APIError.notFound("The requested team was not found") }
        return team
    }
}

/// Finds an organization by id: 404 when unknown.
struct OrganizationLookup: Sendable {
    let db: AuthDatabase
    let organizations: OrganizationStore

    func organization(_ id: String) throws -> OrganizationRecord {
        guard let organization = try db.read({ tx in try organizations.organization(tx, id: id) }) else {
            throw APIError.notFound("The requested organization was not found")
        }
        return organization
    }
}
