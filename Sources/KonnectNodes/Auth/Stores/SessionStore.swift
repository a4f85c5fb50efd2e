import KonnectCore
import KonnectStorage

/// Login sessions, each bound to one organization (`sessions`, A3). Only the token's hash is kept.
struct SessionStore {
    func create(
        _ work: UnitOfWork, tokenHash: String, userID: String, organizationID: String, at moment: SimTime,
        expiresAt: SimTime
    ) throws {
        try work.tx.execute(
            "INSERT INTO sessions(token_hash, user_id, org_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            .text(tokenHash), .text(userID), .text(organizationID), .time(moment), .time(expiresAt))
    }

    /// Who holds the session with this token hash, or nil when there is none.
    func holder(_ db: Transaction, tokenHash: String) throws -> TokenHolder? {
        try db.query(
            """
            SELECT s.user_id, s.org_id, s.expires_at, s.revoked, u.email, u.full_name, u.active,
                o.name, o.owner_id, o.plan, o.home_geo, o.state,
                EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = s.org_id AND m.user_id = s.user_id) AS member
            FROM sessions s JOIN users u ON u.id = s.user_id JOIN organizations o ON o.id = s.org_id
            WHERE s.token_hash = ?
            """, .text(tokenHash)
        ).first.map(TokenHolder.init)
    }

    /// The user's sessions for the organization stop working.
    func revoke(_ work: UnitOfWork, organizationID: String, userID: String) throws {
        try work.tx.execute(
            "UPDATE sessions SET revoked = 1 WHERE org_id = ? AND user_id = ?", .text(organizationID), .text(userID))
    }

    /// Every session of the organization stops working (D3).
    func revokeAll(_ work: UnitOfWork, organizationID: String) throws {
        try work.tx.execute("UPDATE sessions SET revoked = 1 WHERE org_id = ?", .text(organizationID))
    }
}
