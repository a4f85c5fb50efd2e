import KonnectCore
import KonnectStorage

/// Who belongs to which organization (`memberships`, A2).
struct MembershipStore {
    func add(_ work: UnitOfWork, organizationID: String, userID: String, at moment: SimTime) throws {
        try work.tx.execute(
            "INSERT INTO memberships(org_id, user_id, created_at) VALUES (?, ?, ?)", .text(organizationID),
            .text(userID), .time(moment))
    }

    /// Adds the membership unless it exists.
    func ensure(_ work: UnitOfWork, organizationID: String, userID: String, at moment: SimTime) throws {
        try work.tx.execute(
            "INSERT OR IGNORE INTO memberships(org_id, user_id, created_at) VALUES (?, ?, ?)", .text(organizationID),
            .text(userID), .time(moment))
    }

    func remove(_ work: UnitOfWork, organizationID: String, userID: String) throws {
        try work.tx.execute(
            "DELETE FROM memberships WHERE org_id = ? AND user_id = ?", .text(organizationID), .text(userID))
    }

    /// How many organizations other than `organizationID` the user belongs to.
    func otherOrganizationCount(_ db: Transaction, userID: String, besides organizationID: String) throws -> Int64 {
        try db.query(
            "SELECT COUNT(*) AS n FROM memberships WHERE user_id = ? AND org_id != ?", .text(userID),
            .text(organizationID)
        ).first?.int("n") ?? 0
    }

    /// The organization's members, oldest account first.
    func members(_ db: Transaction, organizationID: String) throws -> [UserRecord] {
        try db.query(
            "SELECT u.* FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.org_id = ? ORDER BY u.created_at, u.id",
            .text(organizationID)
        ).map(UserRecord.init)
    }

    /// One member of the organization, or nil (also for users of other organizations).
    func member(_ db: Transaction, organizationID: String, userID: String) throws -> UserRecord? {
        try db.query(
            "SELECT u.* FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.org_id = ? AND u.id = ?",
            .text(organizationID), .text(userID)
        ).first.map(UserRecord.init)
    }

    /// Whether someone with this canonical email already belongs to the organization.
    func hasMember(_ db: Transaction, organizationID: String, emailKey: String) throws -> Bool {
        try db.query(
            "SELECT 1 FROM users u JOIN memberships m ON m.user_id = u.id WHERE u.email_key = ? AND m.org_id = ?",
            .text(emailKey), .text(organizationID)
        ).first != nil
    }

    /// The organizations a user belongs to, oldest first.
    func organizations(_ db: Transaction, userID: String) throws -> [OrganizationRecord] {
        try db.query(
            "SELECT o.* FROM organizations o JOIN memberships m ON m.org_id = o.id WHERE m.user_id = ? ORDER BY o.created_at, o.id",
            .text(userID)
        ).map(OrganizationRecord.init)
    }
}
