import KonnectCore
import KonnectStorage

/// `decommissioned_orgs`: organizations deactivated by the auth node; every control plane and Mesh
/// control plane of theirs in this geo is decommissioned while they are listed (D3, D5).
struct DecommissionStore: Sendable {
    let database: GeoDatabase

    /// Why the organization's objects are decommissioned, or nil while it is active.
    func reason(organization: String, in context: (any GeoReading)? = nil) throws -> String? {
        try database.reading(context) { db in
            try db.query("SELECT reason FROM decommissioned_orgs WHERE org_id = ?", .text(organization)).first?
                .text("reason")
        }
    }

    func organizations() throws -> [String] {
        try database.reading(nil) { db in
            try db.query("SELECT org_id FROM decommissioned_orgs ORDER BY org_id").map { try $0.text("org_id") }
        }
    }

    func decommission(organization: String, reason: String, at moment: SimTime, in work: GeoWork) throws {
        try work.transaction.execute(
            "INSERT OR REPLACE INTO decommissioned_orgs(org_id, reason, at) VALUES (?, ?, ?)", .text(organization),
            .text(reason), .time(moment))
        work.record(.organization(organization))
    }

    func recommission(organization: String, in work: GeoWork) throws {
        try work.transaction.execute("DELETE FROM decommissioned_orgs WHERE org_id = ?", .text(organization))
        work.record(.organization(organization))
    }
}
