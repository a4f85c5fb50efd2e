import KonnectCore
import KonnectStorage

/// A personal access token as listed (A3); its secret is never stored, only its hash.
struct AccessTokenRecord: Sendable {
    var id: String
    var userID: String
    var name: String
    var createdAt: SimTime
    var updatedAt: SimTime
    var expiresAt: SimTime?
    var revokedAt: SimTime?
    var lastUsedAt: SimTime?

    init(_ row: Row) {
        id = row.string("id") ?? ""
        userID = row.string("user_id") ?? ""
        name = row.string("name") ?? ""
        createdAt = row.time("created_at") ?? SimTime(seconds: 0)
        updatedAt = row.time("updated_at") ?? createdAt
        expiresAt = row.time("expires_at")
        revokedAt = row.time("revoked_at")
        lastUsedAt = row.time("last_used_at")
    }
}

/// Personal access tokens (`access_tokens`, A3).
struct AccessTokenStore {
    let ids: IdentifierSource

    func create(
        _ work: UnitOfWork, userID: String, organizationID: String, name: String, tokenHash: String,
        expiresAt: SimTime?, at moment: SimTime
    ) throws -> AccessTokenRecord? {
        let id = try ids.next(work.tx)
        try work.tx.execute(
            "INSERT INTO access_tokens(id, user_id, org_id, name, token_hash, created_at, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            .text(id), .text(userID), .text(organizationID), .text(name), .text(tokenHash), .time(moment),
            .time(moment), .time(expiresAt))
        return try token(work.tx, id: id, userID: userID)
    }

    /// One of the user's tokens, or nil.
    func token(_ db: Transaction, id: String, userID: String) throws -> AccessTokenRecord? {
        try db.query("SELECT * FROM access_tokens WHERE id = ? AND user_id = ?", .text(id), .text(userID)).first.map(
            AccessTokenRecord.init)
    }

    /// The user's tokens for one organization, oldest first.
    func tokens(_ db: Transaction, userID: String, organizationID: String) throws -> [AccessTokenRecord] {
        try db.query(
            "SELECT * FROM access_tokens WHERE user_id = ? AND org_id = ? ORDER BY created_at, id", .text(userID),
            .text(organizationID)
        ).map(AccessTokenRecord.init)
    }

    /// Who holds the token with this hash, or nil when there is none.
    func holder(_ db: Transaction, tokenHash: String) throws -> TokenHolder? {
        try db.query(
            """
            SELECT t.id AS token_id, t.user_id, t.org_id, t.expires_at, t.revoked_at IS NOT NULL AS revoked,
                u.email, u.full_name, u.active, o.name, o.owner_id, o.plan, o.home_geo, o.state,
                EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = t.org_id AND m.user_id = t.user_id) AS member
            FROM access_tokens t JOIN users u ON u.id = t.user_id JOIN organizations o ON o.id = t.org_id
            WHERE t.token_hash = ?
            """, .text(tokenHash)
        ).first.map(TokenHolder.init)
    }

    /// Records when tokens were last used, in the write-behind's own transaction (`AccessTokenUses`);
    /// a later moment already stored wins.
    func recordUse(_ tx: Transaction, _ uses: [String: SimTime]) throws {
        for (id, moment) in uses {
            try tx.execute(
                "UPDATE access_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
                .time(moment), .text(id), .time(moment))
        }
    }

    /// How many of the user's tokens for the organization still work at `moment` (not revoked, not expired).
    func activeCount(_ db: Transaction, userID: String, organizationID: String, at moment: SimTime) throws -> Int {
        try db.query(
            """
            SELECT COUNT(*) AS n FROM access_tokens WHERE user_id = ? AND org_id = ? AND revoked_at IS NULL
                AND (expires_at IS NULL OR expires_at > ?)
            """, .text(userID), .text(organizationID), .time(moment)
        ).first.flatMap { $0.int("n") }.map { Int($0) } ?? 0
    }

    /// Renames a token.
    func rename(_ work: UnitOfWork, id: String, to name: String, at moment: SimTime) throws {
        try work.tx.execute(
            "UPDATE access_tokens SET name = ?, updated_at = ? WHERE id = ?", .text(name), .time(moment), .text(id))
    }

    /// Deletes a token: it answers 401 and is no longer listed.
    func delete(_ work: UnitOfWork, id: String) throws {
        try work.tx.execute("DELETE FROM access_tokens WHERE id = ?", .text(id))
    }

    /// The token answers 401 from now on.
    func revoke(_ work: UnitOfWork, id: String, at moment: SimTime) throws {
        try work.tx.execute(
            "UPDATE access_tokens SET revoked_at = ?, updated_at = ? WHERE id = ? AND revoked_at IS NULL",
            .time(moment), .time(moment), .text(id))
    }

    /// The user's tokens for the organization stop working.
    func revoke(_ work: UnitOfWork, organizationID: String, userID: String, at moment: SimTime) throws {
        try work.tx.execute(
            "UPDATE access_tokens SET revoked_at = ? WHERE org_id = ? AND user_id = ? AND revoked_at IS NULL",
            .time(moment), .text(organizationID), .text(userID))
    }

    /// Every token of the organization stops working (D3).
    func revokeAll(_ work: UnitOfWork, organizationID: String, at moment: SimTime) throws {
        try work.tx.execute(
            "UPDATE access_tokens SET revoked_at = ? WHERE org_id = ? AND revoked_at IS NULL", .time(moment),
            .text(organizationID))
    }
}
