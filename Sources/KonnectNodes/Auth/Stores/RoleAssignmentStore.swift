import KonnectCore
import KonnectStorage

/// Who a role is assigned to: a user or a team of the organization (A4).
enum RoleHolder: Sendable, Hashable {
    case user(String)
    case team(String)

    fileprivate var column: String {
        switch self {
        case .user: "user_id"
        case .team: "team_id"
        }
    }

    fileprivate var id: String {
        switch self {
        case .user(let id), .team(let id): id
        }
    }
}

/// One role assignment as listed.
struct RoleAssignmentRecord: Sendable {
    var id: String
    var role: RoleAssignment

    init(_ row: Row) {
        id = row.string("id") ?? ""
        role = RoleAssignment(
            roleName: row.string("role_name") ?? "", entityTypeName: row.string("entity_type_name") ?? "",
            entityID: row.string("entity_id") ?? "*", entityRegion: row.string("entity_region") ?? "*")
    }
}

/// Roles assigned to users and teams (`role_assignments`, A2, A4).
struct RoleAssignmentStore {
    let ids: IdentifierSource

    @discardableResult
    func assign(
        _ work: UnitOfWork, _ role: RoleAssignment, to holder: RoleHolder, organizationID: String, at moment: SimTime
    ) throws -> String {
        let id = try ids.next(work.tx)
        var user: String? = nil
        var team: String? = nil
        switch holder {
        case .user(let userID): user = userID
        case .team(let teamID): team = teamID
        }
        try work.tx.execute(
            """
            INSERT INTO role_assignments(id, org_id, user_id, team_id, role_name, entity_type_name, entity_id, entity_region, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, .text(id), .text(organizationID), .optional(user), .optional(team), .text(role.roleName),
            .text(role.entityTypeName), .text(role.entityID), .text(role.entityRegion), .time(moment))
        return id
    }

    /// One assignment of the holder in the organization, or nil.
    func assignment(_ db: Transaction, id: String, of holder: RoleHolder, organizationID: String) throws
        -> RoleAssignmentRecord?
    {
        try db.query(
            "SELECT * FROM role_assignments WHERE id = ? AND org_id = ? AND \(holder.column) = ?", .text(id),
            .text(organizationID), .text(holder.id)
        ).first.map(RoleAssignmentRecord.init)
    }

    /// The holder's own assignments (not those through teams), oldest first.
    func assignments(_ db: Transaction, of holder: RoleHolder, organizationID: String) throws
        -> [RoleAssignmentRecord]
    {
        try db.query(
            "SELECT * FROM role_assignments WHERE org_id = ? AND \(holder.column) = ? ORDER BY created_at, id",
            .text(organizationID), .text(holder.id)
        ).map(RoleAssignmentRecord.init)
    }

    /// Whether the holder has exactly this assignment already.
    func isAssigned(_ db: Transaction, _ role: RoleAssignment, to holder: RoleHolder, organizationID: String) throws
        -> Bool
    {
        try assignmentID(db, role, of: holder, organizationID: organizationID) != nil
    }

    /// The id of the holder's own assignment of exactly this role, or nil.
    func assignmentID(_ db: Transaction, _ role: RoleAssignment, of holder: RoleHolder, organizationID: String) throws
        -> String?
    {
        try db.query(
            "SELECT id FROM role_assignments WHERE org_id = ? AND \(holder.column) = ? AND role_name = ? AND entity_type_name = ? AND entity_id = ? AND entity_region = ?",
            .text(organizationID), .text(holder.id), .text(role.roleName), .text(role.entityTypeName),
            .text(role.entityID), .text(role.entityRegion)
        ).first?.string("id")
    }

    /// Whether the user holds Organization Admin directly, not only through a team (A2).
    func holdsOrganizationAdminDirectly(_ db: Transaction, userID: String, organizationID: String) throws -> Bool {
        try db.query(
            "SELECT 1 FROM role_assignments WHERE org_id = ? AND user_id = ? AND entity_type_name = ? AND role_name = ?",
            .text(organizationID), .text(userID), .text(RoleCatalog.organizationAdmin.entityTypeName),
            .text(RoleCatalog.organizationAdmin.roleName)
        ).first != nil
    }

    /// Roles a user holds in the organization, directly and through teams (A4).
    func effectiveRoles(_ db: Transaction, userID: String, organizationID: String) throws -> [RoleAssignment] {
        try db.query(
            """
            SELECT role_name, entity_type_name, entity_id, entity_region FROM role_assignments
            WHERE org_id = ? AND (user_id = ? OR team_id IN (SELECT team_id FROM team_members WHERE user_id = ?))
            ORDER BY created_at, id
            """, .text(organizationID), .text(userID), .text(userID)
        ).map { RoleAssignmentRecord($0).role }
    }

    func delete(_ work: UnitOfWork, id: String) throws {
        try work.tx.execute("DELETE FROM role_assignments WHERE id = ?", .text(id))
    }

    /// Removes every assignment of the holder in the organization.
    func removeAll(_ work: UnitOfWork, of holder: RoleHolder, organizationID: String) throws {
        try work.tx.execute(
            "DELETE FROM role_assignments WHERE org_id = ? AND \(holder.column) = ?", .text(organizationID),
            .text(holder.id))
    }

    /// Removes every assignment in the organization (D3).
    func removeAll(_ work: UnitOfWork, organizationID: String) throws {
        try work.tx.execute("DELETE FROM role_assignments WHERE org_id = ?", .text(organizationID))
    }
}
