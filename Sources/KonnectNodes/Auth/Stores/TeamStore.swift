import KonnectCore
import KonnectStorage

/// A team of an organization (A4).
struct TeamRecord: Sendable {
    var id: String
    var name: String
    var description: String?
    var labels: JSON
    var createdAt: SimTime
    var updatedAt: SimTime

    init(_ row: Row) {
        id = row.string("id") ?? ""
        name = row.string("name") ?? ""
        description = row.string("description")
        labels = row.json("labels")
        createdAt = row.time("created_at") ?? SimTime(seconds: 0)
        updatedAt = row.time("updated_at") ?? createdAt
    }
}

/// Teams and their members (`teams`, `team_members`, A4). Team names are unique per organization.
struct TeamStore {
    let ids: IdentifierSource

    /// A team of the organization, or nil (also for other organizations' teams).
    func team(_ db: Transaction, id: String, organizationID: String) throws -> TeamRecord? {
        try db.query("SELECT * FROM teams WHERE id = ? AND org_id = ?", .text(id), .text(organizationID)).first.map(
            TeamRecord.init)
    }

    /// The organization's teams the user belongs to, oldest first.
    func teams(_ db: Transaction, of userID: String, organizationID: String) throws -> [TeamRecord] {
        try db.query(
            """
            SELECT t.* FROM teams t JOIN team_members m ON m.team_id = t.id
            WHERE m.user_id = ? AND t.org_id = ? ORDER BY t.created_at, t.id
            """, .text(userID), .text(organizationID)
        ).map(TeamRecord.init)
    }

    func teams(_ db: Transaction, organizationID: String) throws -> [TeamRecord] {
        try db.query("SELECT * FROM teams WHERE org_id = ? ORDER BY created_at, id", .text(organizationID)).map(
            TeamRecord.init)
    }

    /// A new team; 409 when the organization has a team of that name.
    func create(
        _ work: UnitOfWork, organizationID: String, name: String, description: String?, labels: JSON,
        at moment: SimTime
    ) throws -> TeamRecord? {
        let id = try ids.next(work.tx)
        do {
            try work.tx.execute(
                "INSERT INTO teams(id, org_id, name, description, labels, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                .text(id), .text(organizationID), .text(name), .optional(description), .text(labels.text),
                .time(moment), .time(moment))
        } catch  where error.isConstraintViolation {
            throw TeamStore.nameTaken(name)
        }
        return try team(work.tx, id: id, organizationID: organizationID)
    }

    /// Changes what is given; 409 when the new name is taken in the organization.
    func update(
        _ work: UnitOfWork, id: String, name: String?, description: String?, labels: JSON?, at moment: SimTime
    ) throws {
        if let name {
            do {
                try work.tx.execute(
                    "UPDATE teams SET name = ?, updated_at = ? WHERE id = ?", .text(name), .time(moment), .text(id))
            } catch  where error.isConstraintViolation {
                throw TeamStore.nameTaken(name)
            }
        }
        if let description {
            try work.tx.execute(
                "UPDATE teams SET description = ?, updated_at = ? WHERE id = ?", .text(description), .time(moment),
                .text(id))
        }
        if let labels {
            try work.tx.execute(
                "UPDATE teams SET labels = ?, updated_at = ? WHERE id = ?", .text(labels.text), .time(moment),
                .text(id))
        }
    }

    static func nameTaken(_ name: String) -> APIError {
        APIError.conflict("A team named \(name) already exists in this organization")
    }

    /// Deletes the team with its memberships (its role assignments are `RoleAssignmentStore`'s).
    func delete(_ work: UnitOfWork, id: String) throws {
        try work.tx.execute("DELETE FROM team_members WHERE team_id = ?", .text(id))
        try work.tx.execute("DELETE FROM teams WHERE id = ?", .text(id))
    }

    /// The team's users, oldest account first.
    func members(_ db: Transaction, teamID: String) throws -> [UserRecord] {
        try db.query(
            "SELECT u.* FROM users u JOIN team_members t ON t.user_id = u.id WHERE t.team_id = ? ORDER BY u.created_at, u.id",
            .text(teamID)
        ).map(UserRecord.init)
    }

    /// Adds a user to the team; false when they were in it already.
    func addMember(_ work: UnitOfWork, teamID: String, userID: String) throws -> Bool {
        try work.tx.execute(
            "INSERT OR IGNORE INTO team_members(team_id, user_id) VALUES (?, ?)", .text(teamID), .text(userID)) == 1
    }

    /// Removes a user from the team; false when they were not in it.
    func removeMember(_ work: UnitOfWork, teamID: String, userID: String) throws -> Bool {
        try work.tx.execute("DELETE FROM team_members WHERE team_id = ? AND user_id = ?", .text(teamID), .text(userID))
            == 1
    }

    /// Removes a user from every team of the organization.
    func removeFromTeams(_ work: UnitOfWork, userID: String, organizationID: String) throws {
        try work.tx.execute(
            "DELETE FROM team_members WHERE user_id = ? AND team_id IN (SELECT id FROM teams WHERE org_id = ?)",
            .text(userID), .text(organizationID))
    }

    /// Empties every team of the organization (D3).
    func removeAllMembers(_ work: UnitOfWork, organizationID: String) throws {
        try work.tx.execute(
            "DELETE FROM team_members WHERE team_id IN (SELECT id FROM teams WHERE org_id = ?)", .text(organizationID))
    }
}
