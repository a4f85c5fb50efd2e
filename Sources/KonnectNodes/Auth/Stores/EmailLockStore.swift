import KonnectCore
import KonnectStorage

/// An email that cannot open a new account: it belonged to the owner of a deactivated organization (D3).
struct EmailLock: Sendable {
    var email: String
    var organizationID: String
    var lockedAt: SimTime
}

/// Locked emails (`email_locks`), keyed by canonical email; only support unlocks them (D7).
struct EmailLockStore {
    func isLocked(_ db: Transaction, emailKey: String) throws -> Bool {
        try db.query("SELECT 1 FROM email_locks WHERE email_key = ?", .text(emailKey)).first != nil
    }

    func lock(_ work: UnitOfWork, email: String, emailKey: String, organizationID: String, at moment: SimTime) throws {
        try work.tx.execute(
            "INSERT OR REPLACE INTO email_locks(email_key, email, org_id, locked_at) VALUES (?, ?, ?, ?)",
            .text(emailKey), .text(email), .text(organizationID), .time(moment))
    }

    /// Lifts the lock; false when there was none.
    func unlock(_ work: UnitOfWork, emailKey: String) throws -> Bool {
        try work.tx.execute("DELETE FROM email_locks WHERE email_key = ?", .text(emailKey)) == 1
    }

    /// Every lock, oldest first.
    func locks(_ db: Transaction) throws -> [EmailLock] {
        try db.query("SELECT * FROM email_locks ORDER BY locked_at, email_key").map {
            EmailLock(
                email: $0.string("email") ?? "", organizationID: $0.string("org_id") ?? "",
                lockedAt: $0.time("locked_at") ?? SimTime(seconds: 0))
        }
    }
}
