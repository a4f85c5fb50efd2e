import KonnectCore
import KonnectHTTP
import KonnectStorage

/// The caller's organization, its licenses, teams and role assignments (A2, A4, P3).
extension AuthNode {
    var organizationRoutes: [Router.Route] {
        [
            Router.route("GET", "/v3/organizations/me") { request in
                let principal = try self.principal(request)
                return HTTPResponse.json(self.organizationJSON(try self.organizationRow(principal.organizationID)))
            },
            Router.route("PATCH", "/v3/organizations/me", updateOrganization),
            Router.route("PUT", "/v3/organizations/me/owner", transferOwnership),
            Router.route("GET", "/v3/organizations/me/licenses") { request in
                let principal = try self.principal(request)
                return HTTPResponse.json(["data": .array(try self.licenses(principal.organizationID))])
            },
            Router.route("GET", "/v3/roles") { request in
                _ = try self.principal(request)
                return HTTPResponse.json(RoleCatalog.json)
            },
            Router.route("GET", "/v3/teams", listTeams),
            Router.route("POST", "/v3/teams", createTeam),
            Router.route("GET", "/v3/teams/{teamId}", getTeam),
            Router.route("PATCH", "/v3/teams/{teamId}", updateTeam),
            Router.route("DELETE", "/v3/teams/{teamId}", deleteTeam),
            Router.route("GET", "/v3/teams/{teamId}/users", listTeamUsers),
            Router.route("POST", "/v3/teams/{teamId}/users", addTeamUser),
            Router.route("DELETE", "/v3/teams/{teamId}/users/{userId}", removeTeamUser),
            Router.route("GET", "/v3/users/{userId}/assigned-roles") { request in
                try self.listAssignedRoles(request, owner: .user)
            },
            Router.route("POST", "/v3/users/{userId}/assigned-roles") { request in
                try self.createAssignedRole(request, owner: .user)
            },
            Router.route("DELETE", "/v3/users/{userId}/assigned-roles/{roleId}") { request in
                try self.deleteAssignedRole(request, owner: .user)
            },
            Router.route("GET", "/v3/teams/{teamId}/assigned-roles") { request in
                try self.listAssignedRoles(request, owner: .team)
            },
            Router.route("POST", "/v3/teams/{teamId}/assigned-roles") { request in
                try self.createAssignedRole(request, owner: .team)
            },
            Router.route("DELETE", "/v3/teams/{teamId}/assigned-roles/{roleId}") { request in
                try self.deleteAssignedRole(request, owner: .team)
            },
        ]
    }

    func organizationRow(_ id: String) throws -> Row {
        guard let row = try db.read({ db in try db.query("SELECT * FROM organizations WHERE id = ?", .text(id)).first })
        else {
            throw APIError.notFound("The requested organization was not found")
        }
        return row
    }

    /// The three licenses provisioned at creation (P3); ended when the subscriptions end (P4, D3).
    func licenses(_ organizationID: String) throws -> [JSON] {
        let (org, rows) = try db.read { db in
            (
                try db.query("SELECT name, created_at FROM organizations WHERE id = ?", .text(organizationID)).first,
                try db.query("SELECT * FROM licenses WHERE org_id = ? ORDER BY product", .text(organizationID))
            )
        }
        return rows.map { row in
            let product = LicenseProduct(rawValue: row.string("product") ?? "")
            return [
                "id": .optional(row.string("id")), "product": .optional(row.string("product")),
                "name": .string(product?.displayName ?? ""), "customer": .string(org?.string("name") ?? ""),
                "state": .string(row.int("ended_at") == nil ? "active" : "ended"),
                "created_at": row.time("created_at")?.json ?? .null, "ended_at": row.time("ended_at")?.json ?? .null,
            ]
        }
    }

    /// The Gateway license a data plane receives inside its configuration (P4).
    func gatewayLicense(_ db: Transaction, organizationID: String) throws -> JSON {
        guard
            let org = try db.query("SELECT name, created_at FROM organizations WHERE id = ?", .text(organizationID))
                .first,
            let row = try db.query(
                "SELECT * FROM licenses WHERE org_id = ? AND product = ?", .text(organizationID),
                .text(LicenseProduct.gatewayEnterprise.rawValue)
            ).first
        else { return .null }
        return licensePayload(row, customer: org.string("name") ?? "", product: .gatewayEnterprise)
    }

    func meshLicense(_ db: Transaction, organizationID: String) throws -> JSON {
        guard let org = try db.query("SELECT name FROM organizations WHERE id = ?", .text(organizationID)).first,
            let row = try db.query(
                "SELECT * FROM licenses WHERE org_id = ? AND product = ?", .text(organizationID),
                .text(LicenseProduct.mesh.rawValue)
            ).first
        else { return .null }
        return licensePayload(row, customer: org.string("name") ?? "", product: .mesh)
    }

    private func licensePayload(_ row: Row, customer: String, product: LicenseProduct) -> JSON {
        [
            "id": .optional(row.string("id")), "product_subscription": .string(product.displayName),
            "customer": .string(customer), "license_creation_date": row.time("created_at")?.json ?? .null,
            "state": .string(row.int("ended_at") == nil ? "active" : "ended"),
            "ended_at": row.time("ended_at")?.json ?? .null,
        ]
    }

    func updateOrganization(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try self.principal(request)
        try requireAdmin(principal)
        var reader = try ObjectReader(request.json())
        let name = reader.string("name", nullable: false, minLength: 1, maxLength: 250)
        let retention = reader.int(
            "retention_period_days", nullable: false, min: OrganizationLifecycle.retentionRange.lowerBound,
            max: OrganizationLifecycle.retentionRange.upperBound)
        try reader.finish()
        let now = self.now
        try db.write { db in
            if let name {
                try db.execute(
                    "UPDATE organizations SET name = ?, updated_at = ? WHERE id = ?", .text(name), .time(now),
                    .text(principal.organizationID))
            }
            if let retention {
                try db.execute(
                    "UPDATE organizations SET retention_days = ?, updated_at = ? WHERE id = ?", .int(retention),
                    .time(now), .text(principal.organizationID))
            }
        }
        return HTTPResponse.json(organizationJSON(try organizationRow(principal.organizationID)))
    }

    /// `PUT /v3/organizations/me/owner`: the owner hands ownership to another Organization Admin (A2).
    func transferOwnership(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try self.principal(request)
        guard principal.isOwner else {
            throw APIError(status: 403, title: "Permission denied", detail: "Only the owner can transfer ownership")
        }
        var reader = try ObjectReader(request.json())
        let userID = reader.string("user_id", required: true, nullable: false, maxLength: 64)
        try reader.finish()
        guard let userID else { throw APIError.badRequest("Invalid request") }
        _ = try memberRow(principal, userID)
        let isAdmin = try db.read { db in
            Permissions(try effectiveRoles(db, organizationID: principal.organizationID, userID: userID))
                .isOrganizationAdmin
        }
        guard isAdmin else {
            throw APIError.invalid(
                field: "user_id", rule: "invalid", reason: "must be an Organization Admin of this organization")
        }
        try db.write { db in
            try db.execute(
                "UPDATE organizations SET owner_id = ?, updated_at = ? WHERE id = ?", .text(userID), .time(now),
                .text(principal.organizationID))
            // The owner always holds Organization Admin directly (A2), not only through a team that could go.
            let direct = try db.query(
                "SELECT 1 FROM role_assignments WHERE org_id = ? AND user_id = ? AND entity_type_name = ? AND role_name = 'Admin'",
                .text(principal.organizationID), .text(userID), .text(RoleCatalog.organization)
            ).first
            if direct == nil {
                try assignRole(
                    db, organizationID: principal.organizationID, userID: userID, teamID: nil,
                    RoleCatalog.organizationAdmin, now: now)
            }
        }
        return HTTPResponse.json(organizationJSON(try organizationRow(principal.organizationID)))
    }

    // MARK: - Teams

    func teamJSON(_ row: Row) -> JSON {
        [
            "id": .optional(row.string("id")), "name": .optional(row.string("name")),
            "description": .optional(row.string("description")), "system_team": false, "labels": row.json("labels"),
            "created_at": row.time("created_at")?.json ?? .null, "updated_at": row.time("updated_at")?.json ?? .null,
        ]
    }

    func teamRow(_ principal: Principal, _ id: String) throws -> Row {
        guard IdentifierSource.isUUID(id) else {
            throw APIError.invalid(field: "teamId", rule: "is_uuid", reason: "must be a UUID, got \"\(id.prefix(64))\"")
        }
        let row = try db.read { db in
            try db.query("SELECT * FROM teams WHERE id = ? AND org_id = ?", .text(id), .text(principal.organizationID))
                .first
        }
        guard let row else { throw APIError.notFound("The requested team was not found") }
        return row
    }

    func listTeams(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try self.principal(request)
        let page = try PageRequest(request)
        var rows = try db.read { db in
            try db.query(
                "SELECT * FROM teams WHERE org_id = ? ORDER BY created_at, id", .text(principal.organizationID))
        }
        if let name = request.query("filter[name]") ?? request.query("filter[name][eq]") {
            rows = rows.filter { $0.string("name") == name }
        }
        if let part = request.query("filter[name][contains]") {
            rows = rows.filter { $0.string("name")?.contains(part) == true }
        }
        return page.response(rows.map(teamJSON))
    }

    private func readTeamBody(_ request: APIRequest, creating: Bool) throws -> (String?, String?, JSON?) {
        var reader = try ObjectReader(request.json())
        let name = reader.string("name", required: creating, nullable: false, minLength: 1, maxLength: 250)
        let description = reader.string("description", minLength: 1, maxLength: 250)
        var labels: JSON? = nil
        if let object = reader.object("labels") {
            if let problem = Labels.problem(object, maxCount: 50) {
                reader.fail("labels", "is_label", problem)
            } else {
                labels = .object(object)
            }
        }
        try reader.finish()
        return (name, description, labels)
    }

    func createTeam(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try self.principal(request)
        try requireAdmin(principal)
        let (name, description, labels) = try readTeamBody(request, creating: true)
        let now = self.now
        let row = try db.write { db -> Row in
            let id = try ids.next(db)
            do {
                try db.execute(
                    "INSERT INTO teams(id, org_id, name, description, labels, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    .text(id), .text(principal.organizationID), .text(name ?? ""), .optional(description),
                    .text((labels ?? [:]).text), .time(now), .time(now))
            } catch let error as DatabaseError where error.isConstraintViolation {
                throw APIError.conflict("A team named \(name ?? "") already exists in this organization")
            }
            return try db.single(
                "SELECT * FROM teams WHERE id = ?", .text(id),
                missing: APIError.notFound("The requested team was not found"))
        }
        return HTTPResponse.json(teamJSON(row), status: 201)
    }

    func getTeam(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try self.principal(request)
        return HTTPResponse.json(teamJSON(try teamRow(principal, request.parameter("teamId"))))
    }

    func updateTeam(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try self.principal(request)
        try requireAdmin(principal)
        let id = request.parameter("teamId")
        _ = try teamRow(principal, id)
        let (name, description, labels) = try readTeamBody(request, creating: false)
        let now = self.now
        try db.write { db in
            do {
                if let name {
                    try db.execute(
                        "UPDATE teams SET name = ?, updated_at = ? WHERE id = ?", .text(name), .time(now), .text(id))
                }
            } catch let error as DatabaseError where error.isConstraintViolation {
                throw APIError.conflict("A team named \(name ?? "") already exists in this organization")
            }
            if let description {
                try db.execute(
                    "UPDATE teams SET description = ?, updated_at = ? WHERE id = ?", .text(description), .time(now),
                    .text(id))
            }
            if let labels {
                try db.execute(
                    "UPDATE teams SET labels = ?, updated_at = ? WHERE id = ?", .text(labels.text), .time(now),
                    .text(id))
            }
        }
        return HTTPResponse.json(teamJSON(try teamRow(principal, id)))
    }

    func deleteTeam(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try self.principal(request)
        try requireAdmin(principal)
        let id = request.parameter("teamId")
        _ = try teamRow(principal, id)
        try db.write { db in
            try db.execute("DELETE FROM team_members WHERE team_id = ?", .text(id))
            try db.execute("DELETE FROM role_assignments WHERE team_id = ?", .text(id))
            try db.execute("DELETE FROM teams WHERE id = ?", .text(id))
        }
        return .noContent
    }

    func listTeamUsers(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try self.principal(request)
        let id = request.parameter("teamId")
        _ = try teamRow(principal, id)
        let page = try PageRequest(request)
        let rows = try db.read { db in
            try db.query(
                "SELECT u.* FROM users u JOIN team_members t ON t.user_id = u.id WHERE t.team_id = ? ORDER BY u.created_at, u.id",
                .text(id))
        }
        return page.response(rows.map(userJSON))
    }

    func addTeamUser(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try self.principal(request)
        try requireAdmin(principal)
        let teamID = request.parameter("teamId")
        _ = try teamRow(principal, teamID)
        var reader = try ObjectReader(request.json())
        let userID = reader.string("id", required: true, nullable: false, maxLength: 64)
        try reader.finish()
        guard let userID else { throw APIError.badRequest("Invalid request") }
        _ = try memberRow(principal, userID)
        let added = try db.write { db in
            try db.execute(
                "INSERT OR IGNORE INTO team_members(team_id, user_id) VALUES (?, ?)", .text(teamID), .text(userID))
        }
        guard added == 1 else { throw APIError.conflict("The user is already in the team") }
        return HTTPResponse(status: 201)
    }

    func removeTeamUser(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try self.principal(request)
        try requireAdmin(principal)
        let teamID = request.parameter("teamId")
        _ = try teamRow(principal, teamID)
        let removed = try db.write { db in
            try db.execute(
                "DELETE FROM team_members WHERE team_id = ? AND user_id = ?", .text(teamID),
                .text(request.parameter("userId")))
        }
        guard removed == 1 else { throw APIError.notFound("The user is not in the team") }
        return .noContent
    }

    // MARK: - Assigned roles

    enum RoleOwner { case user, team }

    private func roleOwnerID(_ request: APIRequest, _ principal: Principal, _ owner: RoleOwner) throws -> String {
        switch owner {
        case .user:
            let id = request.parameter("userId")
            _ = try memberRow(principal, id)
            return id
        case .team:
            let id = request.parameter("teamId")
            _ = try teamRow(principal, id)
            return id
        }
    }

    func listAssignedRoles(_ request: APIRequest, owner: RoleOwner) throws -> HTTPResponse {
        let principal = try self.principal(request)
        let id = try roleOwnerID(request, principal, owner)
        let column = owner == .user ? "user_id" : "team_id"
        var rows = try db.read { db in
            try db.query(
                "SELECT * FROM role_assignments WHERE org_id = ? AND \(column) = ? ORDER BY created_at, id",
                .text(principal.organizationID),
                .text(id))
        }
        if let role = request.query("filter[role_name]") ?? request.query("filter[role_name][eq]") {
            rows = rows.filter { $0.string("role_name") == role }
        }
        if let type = request.query("filter[entity_type_name]") ?? request.query("filter[entity_type_name][eq]") {
            rows = rows.filter { $0.string("entity_type_name") == type }
        }
        return HTTPResponse.json([
            "meta": ["page": ["number": 1, "size": .int(rows.count), "total": .int(rows.count)]],
            "data": .array(rows.map(assignedRoleJSON)),
        ])
    }

    func createAssignedRole(_ request: APIRequest, owner: RoleOwner) throws -> HTTPResponse {
        let principal = try self.principal(request)
        try requireAdmin(principal)
        let ownerID = try roleOwnerID(request, principal, owner)
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
        let now = self.now
        let row = try db.write { db -> Row in
            let column = owner == .user ? "user_id" : "team_id"
            let duplicate = try db.query(
                "SELECT 1 FROM role_assignments WHERE org_id = ? AND \(column) = ? AND role_name = ? AND entity_type_name = ? AND entity_id = ? AND entity_region = ?",
                .text(principal.organizationID), .text(ownerID), .text(roleName), .text(type), .text(entity),
                .text(region)
            ).first
            if duplicate != nil { throw APIError.conflict("This role is already assigned") }
            let id = try assignRole(
                db, organizationID: principal.organizationID, userID: owner == .user ? ownerID : nil,
                teamID: owner == .team ? ownerID : nil,
                role, now: now)
            return try db.single(
                "SELECT * FROM role_assignments WHERE id = ?", .text(id),
                missing: APIError.notFound("The role assignment was not found"))
        }
        return HTTPResponse.json(assignedRoleJSON(row), status: 201)
    }

    func deleteAssignedRole(_ request: APIRequest, owner: RoleOwner) throws -> HTTPResponse {
        let principal = try self.principal(request)
        try requireAdmin(principal)
        let ownerID = try roleOwnerID(request, principal, owner)
        let column = owner == .user ? "user_id" : "team_id"
        let roleID = request.parameter("roleId")
        let row = try db.read { db in
            try db.query(
                "SELECT * FROM role_assignments WHERE id = ? AND org_id = ? AND \(column) = ?", .text(roleID),
                .text(principal.organizationID),
                .text(ownerID)
            ).first
        }
        guard let row else { throw APIError.notFound("The requested role assignment was not found") }
        if owner == .user, ownerID == principal.ownerID, row.string("entity_type_name") == RoleCatalog.organization {
            throw APIError.conflict("The owner always holds Organization Admin; transfer ownership first")
        }
        try db.write { db in try db.execute("DELETE FROM role_assignments WHERE id = ?", .text(roleID)) }
        return .noContent
    }
}
