import KonnectCore
import KonnectHTTP

/// Roles assigned to users and teams of the caller's organization (A2, A4).
struct RoleAssignmentRoutes: Sendable {
    let db: AuthDatabase
    let clock: CalendarClock
    let principals: PrincipalResolver
    let roles: RoleAssignmentStore
    let members: MemberLookup
    let teams: TeamLookup

    enum HolderKind: Sendable { case user, team }

    var routes: [Router.Route] {
        [
            Router.route("GET", "/v3/users/{userId}/assigned-roles") { request in try list(request, .user) },
            Router.route("POST", "/v3/users/{userId}/assigned-roles") { request in try create(request, .user) },
            Router.route("DELETE", "/v3/users/{userId}/assigned-roles/{roleId}") { request in
                try delete(request, .user)
            },
            Router.route("GET", "/v3/teams/{teamId}/assigned-roles") { request in try list(request, .team) },
            Router.route("POST", "/v3/teams/{teamId}/assigned-roles") { request in try create(request, .team) },
            Router.route("DELETE", "/v3/teams/{teamId}/assigned-roles/{roleId}") { request in
                try delete(request, .team)
            },
        ]
    }

    /// The user or team the path names, once it is known to belong to the caller's organization.
    private func holder(_ request: APIRequest, _ principal: Principal, _ kind: HolderKind) throws -> RoleHolder {
        switch kind {
        case .user:
            let id = request.parameter("userId")
            _ = try members.member(principal, id)
            return .user(id)
        case .team:
            let id = request.parameter("teamId")
            _ = try teams.team(principal, id)
            return .team(id)
        }
    }

    func list(_ request: APIRequest, _ kind: HolderKind) throws -> HTTPResponse {
        let principal = try principals.principal(request)
        let holder = try holder(request, principal, kind)
        var found = try db.read { tx in
            try roles.assignments(tx, of: holder, organizationID: principal.organizationID)
        }
        if let role = request.query("filter[role_name]") ?? request.query("filter[role_name][eq]") {
            found = found.filter { $0.role.roleName == role }
        }
        if let type = request.query("filter[entity_type_name]") ?? request.query("filter[entity_type_name][eq]") {
            found = found.filter { $0.role.entityTypeName == type }
        }
        return HTTPResponse.json([
            "meta": ["page": ["number": 1, "size": .int(found.count), "total": .int(found.count)]],
            "data": .array(found.map(\.json)),
        ])
    }

    func create(_ request: APIRequest, _ kind: HolderKind) throws -> HTTPResponse {
        let principal = try principals.principal(request)
        try principal.requireAdmin()
        let holder = try holder(request, principal, kind)
        var reader = try ObjectReader(request.json())
        let roleName = reader.string("role_name", required: true, nullable: false, maxLength: 64)
        let type = reader.string("entity_type_name", required: true, nullable: false, maxLength: 64)
        let entity = reader.string("entity_id", nullable: false, maxLength: 64) ?? "*"
        let region = reader.string("entity_region", nullable: false, maxLength: 8) ?? "*"
        try reader.finish()
        guard let roleName, let type else { throw APIError.badRequest("Invalid request") }
        guard entity == "*" || IdentifierSource.isUUID(entity) else {
            throw APIError.invalid(field: "entity_id", rule: "is_uuid", reason: "must be a UUID or * for every entity")
        }
        let role = RoleAssignment(roleName: roleName, entityTypeName: type, entityID: entity, entityRegion: region)
        if let problem = RoleCatalog.problem(with: role) {
            throw APIError.badRequest("Invalid request: \(problem.field) \(problem.reason)", [problem])
        }
        if type == RoleCatalog.organization || type == RoleCatalog.billing, entity != "*" || region != "*" {
            throw APIError.invalid(
                field: "entity_id", rule: "invalid",
                reason: "\(type) roles apply to the whole organization: use entity_id * and entity_region *")
        }
        let now = clock.now
        let created = try db.write { work -> RoleAssignmentRecord? in
            if try roles.isAssigned(work.tx, role, to: holder, organizationID: principal.organizationID) {
                throw APIError.conflict("This role is already assigned")
            }
            let id = try roles.assign(work, role, to: holder, organizationID: principal.organizationID, at: now)
            return try roles.assignment(work.tx, id: id, of: holder, organizationID: principal.organizationID)
        }
        guard let created else { throw APIError.notFound("The role assignment was not found") }
        return HTTPResponse.json(created.json, status: 201)
    }

    func delete(_ request: APIRequest, _ kind: HolderKind) throws -> HTTPResponse {
        let principal = try principals.principal(request)
        try principal.requireAdmin()
        let holder = try holder(request, principal, kind)
        let roleID = request.parameter("roleId")
        try AuthProblem.requireUUID(roleID, field: "roleId")
        let found = try db.read { tx in
            try roles.assignment(tx, id: roleID, of: holder, organizationID: principal.organizationID)
        }
        guard let found else { throw APIError.notFound("The requested role assignment was not found") }
        if holder == .user(principal.ownerID), found.role.entityTypeName == RoleCatalog.organization {
            throw APIError.conflict("The owner always holds Organization Admin; transfer ownership first")
        }
        try db.write { work in try roles.delete(work, id: roleID) }
        return .noContent
    }
}
