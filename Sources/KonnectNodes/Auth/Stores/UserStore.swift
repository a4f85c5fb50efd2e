import KonnectCore
import KonnectStorage

/// A user's identity (A1, A2): independent of the organizations they belong to.
struct UserRecord: Sendable {
    var id: String
    var email: String
    /// The canonical email, unique across the cluster (A1).
    var emailKey: String
    var fullName: String
    var preferredName: String?
    var passwordHash: String
    var active: Bool
    var createdAt: SimTime
    var updatedAt: SimTime

    /// Reads the `users` columns of a row (also of a join that selects `u.*`).
    init(_ row: Row) {
        id = row.string("id") ?? ""
        email = row.string("email") ?? ""
        emailKey = row.string("email_key") ?? ""
        fullName = row.string("full_name") ?? ""
        preferredName = row.string("preferred_name")
        passwordHash = row.string("password_hash") ?? ""
        active = row.bool("active")
        createdAt = row.time("created_at") ?? SimTime(seconds: 0)
        updatedAt = row.time("updated_at") ?? SimTime(seconds: 0)
    }
}

/// Users (`users`).
struct UserStore {
    let ids: IdentifierSource

    func user(_ db: Transaction, id: String) throws -> UserRecord? {
        try db.query("SELECT * FROM users WHERE id = ?", .text(id)).first.map(UserRecord.init)
    }

    func user(_ db: Transaction, emailKey: String) throws -> UserRecord? {
        try db.query("SELECT * FROM users WHERE email_key = ?", .text(emailKey)).first.map(UserRecord.init)
    }

    /// A new active user; nil when the email is taken (A1: unique across the cluster).
    func create(
        _ work: UnitOfWork, email: String, emailKey: String, fullName: String, passwordHash: String, at moment: SimTime
    ) throws -> UserRecord? {
        let id = try ids.next(work.tx)
        do {
            try work.tx.execute(
                "INSERT INTO users(id, email, email_key, full_name, password_hash, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
                .text(id), .text(email), .text(emailKey), .text(fullName), .text(passwordHash), .time(moment),
                .time(moment))
        } catch  where error.isConstraintViolation {
            return nil
        }
        return try user(work.tx, id: id)
    }

    /// The user can log in again; `at` also marks the account updated.
    func activate(_ work: UnitOfWork, id: String, at moment: SimTime? = nil) throws {
        if let moment {
            try work.tx.execute("UPDATE users SET active = 1, updated_at = ? WHERE id = ?", .time(moment), .text(id))
        } else {
            try work.tx.execute("UPDATE users SET active = 1 WHERE id = ?", .text(id))
        }
    }

    /// The account is closed: it belongs to no organization any more.
    func deactivate(_ work: UnitOfWork, id: String, at moment: SimTime) throws {
        try work.tx.execute("UPDATE users SET active = 0, updated_at = ? WHERE id = ?", .time(moment), .text(id))
    }
}
