import KonnectCore
import KonnectStorage

/// An organization's licenses as the auth node gave them (null once they ended).
struct OrganizationLicenses: Sendable, Hashable {
    /// Kong Gateway Enterprise: data planes receive it with their configuration (P4).
    var gateway: JSON
    /// Kong Mesh: zones receive it with their policies.
    var mesh: JSON
}

/// `org_licenses`: the licenses of each organization with objects in this geo, so data planes and
/// zones receive them also when the organization makes no request (P4).
struct OrganizationLicenseStore: Sendable {
    let database: GeoDatabase

    func licenses(organization: String, in context: (any GeoReading)? = nil) throws -> OrganizationLicenses? {
        try database.reading(context) { db in
            try db.query("SELECT gateway, mesh FROM org_licenses WHERE org_id = ?", .text(organization)).first.map {
                OrganizationLicenses(gateway: try $0.document("gateway"), mesh: try $0.document("mesh"))
            }
        }
    }

    /// Stores the licenses; rewrites the row only when they differ.
    func save(_ licenses: OrganizationLicenses, organization: String, in transaction: Transaction) throws {
        try transaction.execute(
            """
            INSERT INTO org_licenses(org_id, gateway, mesh) VALUES (?, ?, ?)
            ON CONFLICT(org_id) DO UPDATE SET gateway = excluded.gateway, mesh = excluded.mesh
            WHERE gateway IS NOT excluded.gateway OR mesh IS NOT excluded.mesh
            """, .text(organization), .text(licenses.gateway.text), .text(licenses.mesh.text))
    }

    func remove(organization: String, in work: GeoWork) throws {
        try work.transaction.execute("DELETE FROM org_licenses WHERE org_id = ?", .text(organization))
        work.record(.organization(organization))
    }
}
