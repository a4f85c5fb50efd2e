import KonnectCore
import KonnectStorage

/// An invitation not yet accepted (A2, A4).
struct InviteRecord: Sendable {
    var id: String
    var organizationID: String
    var email: String
    var emailKey: String
}

/// Invitations to join an organization (`invites`); only the invite token's hash is kept.
struct InviteStore {
    let ids: IdentifierSource

    /// Records an invitation; returns its id.
    func create(
        _ work: UnitOfWork, organizationID: String, email: String, emailKey: String, tokenHash: String,
        invitedBy userID: String, at moment: SimTime
    ) throws -> String {
        let id = try ids.next(work.tx)
        try work.tx.execute(
            "INSERT INTO invites(id, org_id, email, email_key, token_hash, invited_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            .text(id), .text(organizationID), .text(email), .text(emailKey), .text(tokenHash), .text(userID),
            .time(moment))
        return id
    }

    /// The open invitation with this token hash, or nil when it is unknown or was accepted.
    func pending(_ db: Transaction, tokenHash: String) throws -> InviteRecord? {
        guard
            let row = try db.query(
                "SELECT id, org_id, email, email_key FROM invites WHERE token_hash = ? AND accepted_at IS NULL",
                .text(tokenHash)
            ).first
        else { return nil }
        let key = row.string("email_key") ?? ""
        return InviteRecord(
            id: row.string("id") ?? "", organizationID: row.string("org_id") ?? "", email: row.string("email") ?? key,
            emailKey: key)
    }

    /// Marks the invitation accepted; false when someone accepted it meanwhile.
    func accept(_ work: UnitOfWork, id: String, at moment: SimTime) throws -> Bool {
        try work.tx.execute(
            "UPDATE invites SET accepted_at = ? WHERE id = ? AND accepted_at IS NULL", .time(moment), .text(id)) == 1
    }
}
