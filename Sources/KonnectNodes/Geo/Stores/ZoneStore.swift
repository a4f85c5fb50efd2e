import KonnectCore
import KonnectStorage

/// A zone that connected to a Mesh global control plane, like Kuma's ZoneInsight. Times are seconds
/// on the simulated calendar.
struct ZoneRecord: Sendable {
    var name: String
    var version: String
    var configHash: String
    var connectedAt: Int64?
    var disconnectedAt: Int64?
    var workloads: Int64

    var isOnline: Bool { connectedAt != nil && disconnectedAt == nil }
}

/// `zones`: each zone's connection, hash and workload count.
struct ZoneStore: Sendable {
    let database: GeoDatabase

    func list(meshControlPlane: String) throws -> [ZoneRecord] {
        try database.reading(nil) { db in
            try db.query("SELECT * FROM zones WHERE mesh_cp_id = ? ORDER BY name", .text(meshControlPlane))
                .map(ZoneStore.zone)
        }
    }

    func find(_ name: String, meshControlPlane: String) throws -> ZoneRecord? {
        try database.reading(nil) { db in
            try db.query("SELECT * FROM zones WHERE mesh_cp_id = ? AND name = ?", .text(meshControlPlane), .text(name))
                .first.map(ZoneStore.zone)
        }
    }

    func connected(_ grant: ZoneGrant, version: String, configHash: String, at seconds: Int64) throws {
        try database.write { work in
            try work.transaction.execute(
                """
                INSERT INTO zones(mesh_cp_id, name, version, config_hash, connected_at, disconnected_at, last_seen) VALUES (?, ?, ?, ?, ?, NULL, ?)
                ON CONFLICT(mesh_cp_id, name) DO UPDATE SET version = excluded.version, config_hash = excluded.config_hash,
                    connected_at = excluded.connected_at, disconnected_at = NULL, last_seen = excluded.last_seen
                """, .text(grant.meshControlPlaneID), .text(grant.zone), .text(version), .text(configHash),
                .int(seconds), .int(seconds))
        }
    }

    func disconnected(_ grant: ZoneGrant, at seconds: Int64) throws {
        try database.write { work in
            try work.transaction.execute(
                "UPDATE zones SET disconnected_at = ? WHERE mesh_cp_id = ? AND name = ?", .int(seconds),
                .text(grant.meshControlPlaneID), .text(grant.zone))
        }
    }

    /// At start: no stream survives a restart, so every zone that was connected is disconnected.
    func disconnectAll(at seconds: Int64) throws {
        try database.write { work in
            try work.transaction.execute(
                "UPDATE zones SET disconnected_at = ? WHERE disconnected_at IS NULL", .int(seconds))
        }
    }

    func pinged(_ grant: ZoneGrant, configHash: String, workloads: Int, at seconds: Int64) throws {
        try database.write { work in
            try work.transaction.execute(
                "UPDATE zones SET config_hash = ?, workloads = ?, last_seen = ? WHERE mesh_cp_id = ? AND name = ?",
                .text(configHash), .int(workloads), .int(seconds), .text(grant.meshControlPlaneID),
                .text(grant.zone))
        }
    }

    private static func zone(_ row: Row) throws -> ZoneRecord {
        ZoneRecord(
            name: try row.text("name"), version: try row.text("version"), configHash: try row.text("config_hash"),
            connectedAt: row.int("connected_at"), disconnectedAt: row.int("disconnected_at"),
            workloads: try row.integer("workloads"))
    }
}
