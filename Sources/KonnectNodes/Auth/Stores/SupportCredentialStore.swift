import KonnectCore
import KonnectStorage

/// Hashes of the support credential (`support_credentials`, D7).
struct SupportCredentialStore {
    func register(_ work: UnitOfWork, tokenHash: String, at moment: SimTime) throws {
        try work.tx.execute(
            "INSERT OR IGNORE INTO support_credentials(token_hash, created_at) VALUES (?, ?)", .text(tokenHash),
            .time(moment))
    }

    func isKnown(_ db: Transaction, tokenHash: String) throws -> Bool {
        try db.query("SELECT 1 FROM support_credentials WHERE token_hash = ?", .text(tokenHash)).first != nil
    }
}
