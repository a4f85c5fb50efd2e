import KonnectCore
import KonnectStorage

/// A Kong Mesh global control plane of an organization in this geo, with its policies' version (their
/// hash is built when something needs it: `ConfigurationBuilds`).
struct MeshControlPlane: Sendable {
    var id: String
    var organizationID: String
    var name: String
    var description: String
    var labels: JSON
    var createdAt: SimTime
    var updatedAt: SimTime
    var configVersion: Int64
    /// The oldest version a delta can start from.
    var changesSince: Int64
}

/// `mesh_control_planes`: Mesh global control planes, scoped by organization (T3).
struct MeshControlPlaneStore: Sendable {
    let database: GeoDatabase

    static func notFound() -> APIError { APIError.notFound("The requested Mesh control plane was not found.") }

    static func nameTaken(_ name: String) -> APIError {
        APIError.conflict("A Mesh control plane named \(name) already exists.")
    }

    func find(_ id: String, organization: String, in context: (any GeoReading)? = nil) throws -> MeshControlPlane? {
        try database.reading(context) { db in
            try db.query(
                "SELECT * FROM mesh_control_planes WHERE id = ? AND org_id = ?", .text(id), .text(organization)
            ).first.map(MeshControlPlaneStore.meshControlPlane)
        }
    }

    /// The Mesh control plane with this id, whatever its organization (zone sync).
    func find(_ id: String, in context: (any GeoReading)? = nil) throws -> MeshControlPlane? {
        try database.reading(context) { db in
            try db.query("SELECT * FROM mesh_control_planes WHERE id = ?", .text(id)).first.map(
                MeshControlPlaneStore.meshControlPlane)
        }
    }

    func list(organization: String) throws -> [MeshControlPlane] {
        try database.reading(nil) { db in
            try db.query(
                "SELECT * FROM mesh_control_planes WHERE org_id = ? ORDER BY created_at, id", .text(organization)
            ).map(MeshControlPlaneStore.meshControlPlane)
        }
    }

    /// Mesh control planes whose id or name is `key`, in every organization (the operator's lookup).
    func named(_ key: String) throws -> [MeshControlPlane] {
        try database.reading(nil) { db in
            try db.query(
                "SELECT * FROM mesh_control_planes WHERE (id = ? OR name = ?) ORDER BY created_at", .text(key),
                .text(key)
            ).map(MeshControlPlaneStore.meshControlPlane)
        }
    }

    func create(
        name: String, description: String, labels: JSON, organization: String, at moment: SimTime, in work: GeoWork
    )
        throws -> MeshControlPlane
    {
        let id = try database.newID(work)
        try unique(or: MeshControlPlaneStore.nameTaken(name)) {
            try work.transaction.execute(
                "INSERT INTO mesh_control_planes(id, org_id, name, description, labels, created_at, updated_at, changes_since) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
                .text(id), .text(organization), .text(name), .text(description), .text(labels.text), .time(moment),
                .time(moment))
        }
        return try require(id, in: work)
    }

    /// Changes the given fields; 404 when a concurrent delete won, 409 when the new name is taken.
    func update(
        _ id: String, organization: String, name: String?, description: String?, labels: JSONObject?,
        at moment: SimTime, in work: GeoWork
    ) throws -> MeshControlPlane {
        let db = work.transaction
        guard try find(id, organization: organization, in: work) != nil else { throw MeshControlPlaneStore.notFound() }
        if let name {
            try unique(or: MeshControlPlaneStore.nameTaken(name)) {
                try db.execute("UPDATE mesh_control_planes SET name = ? WHERE id = ?", .text(name), .text(id))
            }
        }
        if let description {
            try db.execute("UPDATE mesh_control_planes SET description = ? WHERE id = ?", .text(description), .text(id))
        }
        if let labels {
            try db.execute(
                "UPDATE mesh_control_planes SET labels = ? WHERE id = ?", .text(JSON.object(labels).text), .text(id))
        }
        try db.execute("UPDATE mesh_control_planes SET updated_at = ? WHERE id = ?", .time(moment), .text(id))
        return try require(id, in: work)
    }

    /// Deletes a Mesh control plane with its resources, zone tokens and zones (cascade).
    func remove(_ id: String, in work: GeoWork) throws {
        try work.transaction.execute("DELETE FROM mesh_control_planes WHERE id = ?", .text(id))
        work.record(.meshConfiguration(meshControlPlaneID: id))
        work.record(.zoneTokens)
    }

    func removeAll(organization: String, in work: GeoWork) throws {
        let ids = try work.transaction.query("SELECT id FROM mesh_control_planes WHERE org_id = ?", .text(organization))
        try work.transaction.execute("DELETE FROM mesh_control_planes WHERE org_id = ?", .text(organization))
        for row in ids { work.record(.meshConfiguration(meshControlPlaneID: try row.text("id"))) }
        if !ids.isEmpty { work.record(.zoneTokens) }
    }

    /// A new version of the policies: the version goes up by one, and the oldest version a delta can
    /// start from follows it. Returns both, or nil when the Mesh control plane is gone.
    func recordConfiguration(_ id: String, in work: GeoWork) throws -> (version: Int64, changesSince: Int64)? {
        let row = try work.transaction.query(
            """
            UPDATE mesh_control_planes SET config_version = config_version + 1,
                changes_since = MAX(changes_since, config_version + 1 - ?)
            WHERE id = ? RETURNING config_version, changes_since
            """, .int(SyncPlan.retainedVersions), .text(id)
        ).first
        work.record(.meshConfiguration(meshControlPlaneID: id))
        guard let row else { return nil }
        return (try row.integer("config_version"), try row.integer("changes_since"))
    }

    private func require(_ id: String, in work: GeoWork) throws -> MeshControlPlane {
        guard let found = try find(id, in: work) else { throw MeshControlPlaneStore.notFound() }
        return found
    }

    private static func meshControlPlane(_ row: Row) throws -> MeshControlPlane {
        MeshControlPlane(
            id: try row.text("id"), organizationID: try row.text("org_id"), name: try row.text("name"),
            description: try row.text("description"), labels: try row.document("labels"),
            createdAt: try row.moment("created_at"), updatedAt: try row.moment("updated_at"),
            configVersion: try row.integer("config_version"), changesSince: try row.integer("changes_since"))
    }
}
