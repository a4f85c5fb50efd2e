import KonnectCore
import KonnectStorage

/// A data plane as the control plane's node list shows it (C2). Times are seconds on the simulated
/// calendar, like everything the APIs show.
struct DataPlaneNodeRecord: Sendable {
    var id: String
    var controlPlaneID: String
    var hostname: String
    var version: String
    var type: String
    var lastPing: Int64
    var configHash: String
    var createdAt: Int64
    var updatedAt: Int64
}

/// A data plane's latest heartbeat: when, and the configuration hash it runs.
struct NodePing: Sendable, Hashable {
    var lastPing: Int64
    var configHash: String
}

/// `dp_nodes` and `dp_usage_cursors`: the data planes that connected to each control plane, and the
/// number of the last usage report counted from each (B3).
struct DataPlaneNodeStore: Sendable {
    let database: GeoDatabase

    func list(controlPlane: String) throws -> [DataPlaneNodeRecord] {
        try database.reading(nil) { db in
            try db.query("SELECT * FROM dp_nodes WHERE cp_id = ? ORDER BY created_at, id", .text(controlPlane))
                .map(DataPlaneNodeStore.node)
        }
    }

    func find(_ id: String, controlPlane: String) throws -> DataPlaneNodeRecord? {
        try database.reading(nil) { db in
            try db.query("SELECT * FROM dp_nodes WHERE id = ? AND cp_id = ?", .text(id), .text(controlPlane)).first
                .map(DataPlaneNodeStore.node)
        }
    }

    /// Whether the node registered with this control plane (a ping from anyone else is refused).
    func isRegistered(_ id: String, controlPlane: String) throws -> Bool {
        try database.reading(nil) { db in
            try db.query("SELECT 1 FROM dp_nodes WHERE id = ? AND cp_id = ?", .text(id), .text(controlPlane)).first
                != nil
        }
    }

    /// Adds the node to the list, or updates it when it connects again (possibly for another control plane).
    func register(
        _ id: String, controlPlane: String, hostname: String, version: String, configHash: String,
        at seconds: Int64,
        in work: GeoWork
    ) throws {
        try work.transaction.execute(
            """
            INSERT INTO dp_nodes(id, cp_id, hostname, version, type, last_ping, config_hash, created_at, updated_at)
            VALUES (?, ?, ?, ?, 'kong-proxy', ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET cp_id = excluded.cp_id, hostname = excluded.hostname, version = excluded.version,
                last_ping = excluded.last_ping, config_hash = excluded.config_hash, updated_at = excluded.updated_at
            """, .text(id), .text(controlPlane), .text(hostname), .text(version), .int(seconds), .text(configHash),
            .int(seconds), .int(seconds))
    }

    /// Removes a node from the list; false when the control plane has none with this id.
    func remove(_ id: String, controlPlane: String, in work: GeoWork) throws -> Bool {
        try work.transaction.execute("DELETE FROM dp_nodes WHERE id = ? AND cp_id = ?", .text(id), .text(controlPlane))
            == 1
    }

    /// Removes every node of a control plane that is being removed.
    func removeAll(controlPlane: String, in work: GeoWork) throws {
        try work.transaction.execute("DELETE FROM dp_nodes WHERE cp_id = ?", .text(controlPlane))
    }

    /// Writes heartbeats kept in memory (only the nodes whose heartbeat moved).
    func recordPings(_ pings: [String: NodePing], in transaction: Transaction) throws {
        for (id, ping) in pings {
            try transaction.execute(
                "UPDATE dp_nodes SET last_ping = ?, config_hash = ?, updated_at = ? WHERE id = ? AND (last_ping != ? OR config_hash != ?)",
                .int(ping.lastPing), .text(ping.configHash), .int(ping.lastPing), .text(id), .int(ping.lastPing),
                .text(ping.configHash))
        }
    }

    /// The number of the last usage report counted from a node (0 before the first).
    func lastUsageReport(node: String, in work: GeoWork) throws -> Int64 {
        try work.transaction.query("SELECT last_seq FROM dp_usage_cursors WHERE node_id = ?", .text(node)).first?
            .integer("last_seq") ?? 0
    }

    func recordUsageReport(node: String, seq: Int64, in work: GeoWork) throws {
        try work.transaction.execute(
            "INSERT INTO dp_usage_cursors(node_id, last_seq) VALUES (?, ?) ON CONFLICT(node_id) DO UPDATE SET last_seq = excluded.last_seq",
            .text(node), .int(seq))
    }

    private static func node(_ row: Row) throws -> DataPlaneNodeRecord {
        DataPlaneNodeRecord(
            id: try row.text("id"), controlPlaneID: try row.text("cp_id"), hostname: try row.text("hostname"),
            version: try row.text("version"), type: try row.text("type"), lastPing: try row.integer("last_ping"),
            configHash: try row.text("config_hash"), createdAt: try row.integer("created_at"),
            updatedAt: try row.integer("updated_at"))
    }
}
