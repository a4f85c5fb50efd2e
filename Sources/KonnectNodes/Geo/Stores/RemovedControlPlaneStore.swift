import KonnectCore
import KonnectSecurity
import KonnectStorage

/// `removed_control_planes` and `retired_dp_credentials`: what a removed control plane leaves behind so
/// that calls its data planes counted but had not reported yet are still billed, exactly once (B3). Its
/// organization (a small tombstone) and its data planes' credentials, accepted for
/// `POST /internal/v1/dp/usage` only: sync and ping refuse them like any unknown credential. Both are kept
/// until the organization is purged (A5): a data plane cut off from its geo may come back with its
/// reports at any later time, and once the organization is deleted nothing of it is billed any more.
struct RemovedControlPlaneStore: Sendable {
    let database: GeoDatabase

    /// Records the control plane's organization and retires its data planes' credentials, in the
    /// transaction that removes it (before the credentials themselves go).
    func retire(_ controlPlane: String, organization: String, at moment: SimTime, in work: GeoWork) throws {
        try work.transaction.execute(
            "INSERT OR IGNORE INTO removed_control_planes(cp_id, org_id, removed_at) VALUES (?, ?, ?)",
            .text(controlPlane), .text(organization), .time(moment))
        // A secret pinned again for another control plane and removed with it: the latest removal owns it.
        try work.transaction.execute(
            """
            INSERT OR REPLACE INTO retired_dp_credentials(secret_hash, cp_id, retired_at)
            SELECT secret_hash, cp_id, ? FROM dp_credentials WHERE cp_id = ?
            """, .time(moment), .text(controlPlane))
        work.record(.credentials)
    }

    /// The removed control plane a retired secret was issued for; nil when it never was, or its
    /// organization was purged.
    func controlPlane(forSecret secret: String) throws -> String? {
        try database.reading(nil) { db in
            try db.query(
                "SELECT cp_id FROM retired_dp_credentials WHERE secret_hash = ?", .text(Secrets.sha256Hex(secret))
            ).first?.string("cp_id")
        }
    }

    /// The organization a removed control plane belonged to; nil when it was not removed or its
    /// organization was purged.
    func organization(of controlPlane: String, in context: (any GeoReading)? = nil) throws -> String? {
        try database.reading(context) { db in
            try db.query("SELECT org_id FROM removed_control_planes WHERE cp_id = ?", .text(controlPlane)).first?
                .string("org_id")
        }
    }

    /// Forgets every removed control plane of a purged organization, and with them their retired
    /// credentials (A5).
    func forget(organization: String, in work: GeoWork) throws {
        try work.transaction.execute(
            """
            DELETE FROM retired_dp_credentials
            WHERE cp_id IN (SELECT cp_id FROM removed_control_planes WHERE org_id = ?)
            """, .text(organization))
        try work.transaction.execute("DELETE FROM removed_control_planes WHERE org_id = ?", .text(organization))
        work.record(.credentials)
    }
}
