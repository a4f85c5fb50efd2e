import KonnectCore
import KonnectHTTP

/// Teams of the caller's organization and their members (A4).
struct TeamRoutes: Sendable {
    let db: AuthDatabase
    let clock: CalendarClock
    let principals: PrincipalResolver
    let teams: TeamStore
    let roles: RoleAssignmentStore
    let members: MemberLookup
    let lookup: TeamLookup
    let inferredRegion: String

    var routes: [Router.Route] {
        [
            Router.route("GET", "/v3/teams", list),
            Router.route("POST", "/v3/teams", create),
            Router.route("GET", "/v3/teams/{teamId}", get),
            Router.route("PATCH", "/v3/teams/{teamId}", update),
            Router.route("DELETE", "/v3/teams/{teamId}", delete),
            Router.route("GET", "/v3/teams/{teamId}/users", listUsers),
            Router.route("POST", "/v3/teams/{teamId}/users", addUser),
            Router.route("DELETE", "/v3/teams/{teamId}/users/{userId}", removeUser),
            Router.route("GET", "/v3/users/{userId}/teams", listUserTeams),
        ]
    }

    private func team(_ principal: Principal, _ id: String) throws -> TeamRecord {
        try lookup.team(principal, id)
    }

    func list(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try principals.principal(request)
        let page = try PageRequest(request)
        var found = try db.read { tx in try teams.teams(tx, organizationID: principal.organizationID) }
        if let name = request.query("filter[name]") ?? request.query("filter[name][eq]") {
            found = found.filter { $0.name == name }
        }
        if let part = request.query("filter[name][contains]") {
            found = found.filter { $0.name.contains(part) }
        }
        return page.response(found.map(\.json))
    }

    /// `GET /v3/users/{userId}/teams`: the teams of the organization a member belongs to.
    func listUserTeams(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try principals.principal(request)
        let user = try members.member(principal, request.parameter("userId"))
        let page = try PageRequest(request)
        var found = try db.read { tx in
            try teams.teams(tx, of: user.id, organizationID: principal.organizationID)
        }
        if let name = request.query("filter[name]") ?? request.query("filter[name][eq]") {
            found = found.filter { $0.name == name }
        }
        if let part = request.query("filter[name][contains]") { found = found.filter { $0.name.contains(part) } }
        return page.response(found.map(\.json))
    }

    private func readBody(_ request: APIRequest, creating: Bool) throws -> (String?, String?, JSON?) {
        var reader = try ObjectReader(request.json())
        let name = reader.string("name", required: creating, nullable: false, minLength: 1, maxLength: 250)
        let description = reader.string("description", minLength: 1, maxLength: 250)
        var labels: JSON? = nil
        if let object = reader.object("labels", nullable: false) {
            if let problem = Labels.problem(object, maxCount: 50) {
                reader.fail("labels", "is_label", problem)
            } else {
                labels = .object(object)
            }
        }
        try reader.finish()
        return (name, description, labels)
    }

    func create(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try principals.principal(request)
        try principal.requireAdmin()
        let (name, description, labels) = try readBody(request, creating: true)
        let now = clock.now
        let created = try db.write { work in
            try teams.create(
                work, organizationID: principal.organizationID, name: name ?? "", description: description,
                labels: labels ?? [:], at: now)
        }
        guard let created else { throw APIError.notFound("The requested team was not found") }
        return HTTPResponse.json(created.json, status: 201)
    }

    func get(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try principals.principal(request)
        return HTTPResponse.json(try team(principal, request.parameter("teamId")).json)
    }

    func update(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try principals.principal(request)
        try principal.requireAdmin()
        let id = request.parameter("teamId")
        _ = try team(principal, id)
        let (name, description, labels) = try readBody(request, creating: false)
        let now = clock.now
        try db.write { work in
            try teams.update(work, id: id, name: name, description: description, labels: labels, at: now)
        }
        return HTTPResponse.json(try team(principal, id).json)
    }

    func delete(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try principals.principal(request)
        try principal.requireAdmin()
        let id = request.parameter("teamId")
        _ = try team(principal, id)
        try db.write { work in
            try roles.removeAll(work, of: .team(id), organizationID: principal.organizationID)
            try teams.delete(work, id: id)
        }
        return .noContent
    }

    func listUsers(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try principals.principal(request)
        let id = request.parameter("teamId")
        _ = try team(principal, id)
        let page = try PageRequest(request)
        let users = try db.read { tx in try teams.members(tx, teamID: id) }
        return page.response(users.map { $0.json(inferredRegion: inferredRegion) })
    }

    func addUser(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try principals.principal(request)
        try principal.requireAdmin()
        let teamID = request.parameter("teamId")
        _ = try team(principal, teamID)
        var reader = try ObjectReader(request.json())
        let userID = reader.string("id", required: true, nullable: false, maxLength: 64)
        try reader.finish()
        guard let userID else { throw APIError.badRequest("Invalid request") }
        _ = try members.member(principal, userID)
        let added = try db.write { work in try teams.addMember(work, teamID: teamID, userID: userID) }
        guard added else { throw APIError.conflict("The user is already in the team") }
        return HTTPResponse(status: 201)
    }

    func removeUser(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try principals.principal(request)
        try principal.requireAdmin()
        let teamID = request.parameter("teamId")
        _ = try team(principal, teamID)
        let userID = request.parameter("userId")
        try AuthProblem.requireUUID(userID, field: "userId")
        let removed = try db.write { work in try teams.removeMember(work, teamID: teamID, userID: userID) }
        guard removed else { throw APIError.notFound("The user is not in the team") }
        return .noContent
    }
}
