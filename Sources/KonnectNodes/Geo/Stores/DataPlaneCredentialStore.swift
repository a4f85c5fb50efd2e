import KonnectCore
import KonnectSecurity
import KonnectStorage

/// A credential pinned for a control plane's data planes (`dp-client-certificates`), stored as a hash.
struct DataPlaneCredential: Sendable {
    var id: String
    var controlPlaneID: String
    var title: String?
    var secretHash: String
    /// The pinned certificate, when the credential was given one.
    var cert: String?
    var createdAt: Int64
    var updatedAt: Int64
}

/// `dp_credentials`: which secret lets a data plane sync which control plane (C2).
struct DataPlaneCredentialStore: Sendable {
    let database: GeoDatabase

    func list(controlPlane: String) throws -> [DataPlaneCredential] {
        try database.reading(nil) { db in
            try db.query("SELECT * FROM dp_credentials WHERE cp_id = ? ORDER BY created_at, id", .text(controlPlane))
                .map(DataPlaneCredentialStore.credential)
        }
    }

    func find(_ id: String, controlPlane: String) throws -> DataPlaneCredential? {
        try database.reading(nil) { db in
            try db.query("SELECT * FROM dp_credentials WHERE id = ? AND cp_id = ?", .text(id), .text(controlPlane))
                .first.map(DataPlaneCredentialStore.credential)
        }
    }

    /// The control plane a secret was issued for; nil when unknown or revoked.
    func controlPlane(forSecret secret: String) throws -> String? {
        try database.reading(nil) { db in
            try db.query("SELECT cp_id FROM dp_credentials WHERE secret_hash = ?", .text(Secrets.sha256Hex(secret)))
                .first?.string("cp_id")
        }
    }

    /// Pins a secret for a control plane; 409 when the same secret is already pinned.
    func issue(
        secret: String, cert: String?, title: String?, controlPlane: String, at moment: SimTime, in work: GeoWork
    )
        throws -> DataPlaneCredential
    {
        let credential = DataPlaneCredential(
            id: try database.newID(work), controlPlaneID: controlPlane, title: title,
            secretHash: Secrets.sha256Hex(secret), cert: cert, createdAt: moment.seconds, updatedAt: moment.seconds)
        try unique(or: APIError.conflict("This certificate is already pinned")) {
            try work.transaction.execute(
                "INSERT INTO dp_credentials(id, cp_id, title, secret_hash, cert, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                .text(credential.id), .text(controlPlane), .optional(title), .text(credential.secretHash),
                .optional(cert), .int(credential.createdAt), .int(credential.updatedAt))
        }
        work.record(.credentials)
        return credential
    }

    /// Revokes one credential; false when the control plane has none with this id.
    func revoke(_ id: String, controlPlane: String, in work: GeoWork) throws -> Bool {
        let removed = try work.transaction.execute(
            "DELETE FROM dp_credentials WHERE id = ? AND cp_id = ?", .text(id), .text(controlPlane))
        if removed > 0 { work.record(.credentials) }
        return removed > 0
    }

    /// Revokes every credential of a control plane that is being removed.
    func revokeAll(controlPlane: String, in work: GeoWork) throws {
        try work.transaction.execute("DELETE FROM dp_credentials WHERE cp_id = ?", .text(controlPlane))
        work.record(.credentials)
    }

    private static func credential(_ row: Row) throws -> DataPlaneCredential {
        DataPlaneCredential(
            id: try row.text("id"), controlPlaneID: try row.text("cp_id"), title: row.string("title"),
            secretHash: try row.text("secret_hash"), cert: row.string("cert"), createdAt: try row.integer("created_at"),
            updatedAt: try row.integer("updated_at"))
    }
}
