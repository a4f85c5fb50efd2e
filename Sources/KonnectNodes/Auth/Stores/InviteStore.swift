import KonnectCore
import KonnectStorage

/// An invitation not yet accepted nor revoked (A2, A4).
struct InviteRecord: Sendable {
    var id: String
    var organizationID: String
    var email: String
    var emailKey: String
    var invitedBy: String
    var createdAt: SimTime

    init(_ row: Row) throws {
        id = try row.text("id")
        organizationID = try row.text("org_id")
        emailKey = try row.text("email_key")
        email = row.string("email") ?? emailKey
        invitedBy = try row.text("invited_by")
        createdAt = try row.moment("created_at")
    }

    /// As `GET /v3/invites` lists it.
    var json: JSON {
        [
            "id": .string(id), "email": .string(email), "organization_id": .string(organizationID),
            "invited_by": .string(invitedBy), "state": "pending", "created_at": createdAt.json,
        ]
    }
}

/// Invitations to join an organization (`invites`); only the invite token's hash is kept. An email has at
/// most one pending invitation per organization.
struct InviteStore {
    let ids: IdentifierSource

    static func alreadyInvited(_ email: String) -> APIError {
        APIError.conflict(
            "\(email) already has a pending invite to this organization; revoke it with DELETE /v3/invites/{inviteId} to send another"
        )
    }

    /// Records an invitation; 409 when the email already has a pending one.
    func create(
        _ work: UnitOfWork, organizationID: String, email: String, emailKey: String, tokenHash: String,
        invitedBy userID: String, at moment: SimTime
    ) throws -> InviteRecord {
        let id = try ids.next(work.tx)
        try unique(or: InviteStore.alreadyInvited(email)) {
            try work.tx.execute(
                "INSERT INTO invites(id, org_id, email, email_key, token_hash, invited_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                .text(id), .text(organizationID), .text(email), .text(emailKey), .text(tokenHash), .text(userID),
                .time(moment))
        }
        guard let created = try invite(work.tx, id: id, organizationID: organizationID) else {
            throw APIError.notFound("The invite was not found")
        }
        return created
    }

    /// The organization's pending invitation with this id, or nil.
    func invite(_ db: Transaction, id: String, organizationID: String) throws -> InviteRecord? {
        try db.query(
            "SELECT * FROM invites WHERE id = ? AND org_id = ? AND accepted_at IS NULL AND revoked_at IS NULL",
            .text(id), .text(organizationID)
        ).first.map(InviteRecord.init)
    }

    /// The organization's pending invitations, oldest first.
    func pending(_ db: Transaction, organizationID: String) throws -> [InviteRecord] {
        try db.query(
            """
            SELECT * FROM invites WHERE org_id = ? AND accepted_at IS NULL AND revoked_at IS NULL
            ORDER BY created_at, id
            """, .text(organizationID)
        ).map(InviteRecord.init)
    }

    /// The pending invitation with this token hash, or nil when it is unknown, accepted or revoked.
    func pending(_ db: Transaction, tokenHash: String) throws -> InviteRecord? {
        try db.query(
            "SELECT * FROM invites WHERE token_hash = ? AND accepted_at IS NULL AND revoked_at IS NULL",
            .text(tokenHash)
        ).first.map(InviteRecord.init)
    }

    /// Marks the invitation accepted; false when it was accepted or revoked meanwhile.
    func accept(_ work: UnitOfWork, id: String, at moment: SimTime) throws -> Bool {
        try work.tx.execute(
            "UPDATE invites SET accepted_at = ? WHERE id = ? AND accepted_at IS NULL AND revoked_at IS NULL",
            .time(moment), .text(id)) == 1
    }

    /// Revokes a pending invitation: its token no longer works. False when it is not pending.
    func revoke(_ work: UnitOfWork, id: String, organizationID: String, at moment: SimTime) throws -> Bool {
        try work.tx.execute(
            """
            UPDATE invites SET revoked_at = ? WHERE id = ? AND org_id = ? AND accepted_at IS NULL AND revoked_at IS NULL
            """, .time(moment), .text(id), .text(organizationID)) == 1
    }
}
