import KonnectCore
import KonnectSecurity
import KonnectStorage

/// Which Mesh global control plane and zone a zone token was issued for.
struct ZoneGrant: Sendable, Hashable {
    var meshControlPlaneID: String
    var zone: String
}

/// `zone_tokens`: the tokens (`spat_...`) that let a zone control plane sync, stored as hashes.
struct ZoneTokenStore: Sendable {
    let database: GeoDatabase

    func issue(_ token: String, for grant: ZoneGrant, at moment: SimTime, in work: GeoWork) throws {
        try work.transaction.execute(
            "INSERT INTO zone_tokens(id, mesh_cp_id, zone, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)",
            .text(try database.newID(work)), .text(grant.meshControlPlaneID), .text(grant.zone),
            .text(Secrets.sha256Hex(token)), .time(moment))
        work.record(.zoneTokens)
    }

    /// What a token grants; nil when unknown or revoked.
    func grant(forToken token: String) throws -> ZoneGrant? {
        try database.reading(nil) { db in
            try db.query(
                "SELECT mesh_cp_id, zone FROM zone_tokens WHERE secret_hash = ?", .text(Secrets.sha256Hex(token))
            ).first.map { ZoneGrant(meshControlPlaneID: try $0.text("mesh_cp_id"), zone: try $0.text("zone")) }
        }
    }
}
