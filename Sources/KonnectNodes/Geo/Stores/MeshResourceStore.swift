import KonnectCore
import KonnectStorage

/// Where a Mesh resource lives: a mesh is named by itself, a policy by its mesh and name.
struct MeshResourceKey: Sendable, Hashable {
    /// `Mesh`, `MeshTrafficPermission`, `MeshTimeout`, `MeshRetry`.
    var type: String
    var mesh: String
    var name: String

    var isMesh: Bool { type == "Mesh" }

    /// The configuration item it is: a mesh keyed by its name, a policy by type, mesh and name.
    var itemID: ConfigurationItemID {
        isMesh
            ? ConfigurationItemID(collection: "meshes", key: name)
            : ConfigurationItemID(
                collection: "policies", key: ConfigurationLayout.meshPolicyKey(type: type, mesh: mesh, name: name))
    }
}

/// `mesh_resources`: the meshes and policies of each Mesh global control plane, as Kuma's API returns
/// them, each with its canonical bytes. Every write gives the control plane one new policies version
/// with its item changes in the change log, recorded just before the write commits; the policies and
/// their hash are built when something needs them (`ConfigurationBuilds`).
struct MeshResourceStore: Sendable {
    let database: GeoDatabase
    let meshControlPlanes: MeshControlPlaneStore
    let changes: ConfigurationChangeStore

    /// A resource's body, or nil.
    func find(_ key: MeshResourceKey, meshControlPlane: String, in context: (any GeoReading)? = nil) throws -> JSON? {
        try database.reading(context) { db in
            try db.query(
                "SELECT body FROM mesh_resources WHERE mesh_cp_id = ? AND type = ? AND mesh = ? AND name = ?",
                .text(meshControlPlane), .text(key.type), .text(key.mesh), .text(key.name)
            ).first?.document("body")
        }
    }

    /// The meshes (`mesh` nil) or one mesh's policies of a type, by name.
    func list(type: String, mesh: String?, meshControlPlane: String) throws -> [JSON] {
        try database.reading(nil) { db in
            let rows =
                if let mesh {
                    try db.query(
                        "SELECT body FROM mesh_resources WHERE mesh_cp_id = ? AND type = ? AND mesh = ? ORDER BY name",
                        .text(meshControlPlane), .text(type), .text(mesh))
                } else {
                    try db.query(
                        "SELECT body FROM mesh_resources WHERE mesh_cp_id = ? AND type = ? ORDER BY name",
                        .text(meshControlPlane), .text(type))
                }
            return try rows.map { try $0.document("body") }
        }
    }

    /// When a resource was created, or nil when it does not exist.
    func createdAt(_ key: MeshResourceKey, meshControlPlane: String, in work: GeoWork) throws -> SimTime? {
        try work.transaction.query(
            "SELECT created_at FROM mesh_resources WHERE mesh_cp_id = ? AND type = ? AND mesh = ? AND name = ?",
            .text(meshControlPlane), .text(key.type), .text(key.mesh), .text(key.name)
        ).first?.moment("created_at")
    }

    /// Creates or replaces a resource.
    func put(_ key: MeshResourceKey, body: JSON, meshControlPlane: String, at moment: SimTime, in work: GeoWork) throws
    {
        let db = work.transaction
        let item = ConfigurationItem(id: key.itemID, bytes: body.canonicalBytes)
        let updated = try db.execute(
            "UPDATE mesh_resources SET body = ?, canonical = ?, updated_at = ? WHERE mesh_cp_id = ? AND type = ? AND mesh = ? AND name = ?",
            .text(body.text), .blob(item.bytes), .time(moment), .text(meshControlPlane), .text(key.type),
            .text(key.mesh), .text(key.name))
        if updated == 0 {
            try db.execute(
                "INSERT INTO mesh_resources(id, mesh_cp_id, type, mesh, name, body, canonical, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                .text(try database.newID(work)), .text(meshControlPlane), .text(key.type), .text(key.mesh),
                .text(key.name), .text(body.text), .blob(item.bytes), .time(moment), .time(moment))
        }
        policiesChanged(meshControlPlane, .upsert(item), in: work)
    }

    /// Deletes a resource (a mesh with all its policies); false when it does not exist.
    func delete(_ key: MeshResourceKey, meshControlPlane: String, in work: GeoWork) throws -> Bool {
        let db = work.transaction
        let removed = try db.execute(
            "DELETE FROM mesh_resources WHERE mesh_cp_id = ? AND type = ? AND mesh = ? AND name = ?",
            .text(meshControlPlane), .text(key.type), .text(key.mesh), .text(key.name))
        guard removed > 0 else { return false }
        policiesChanged(meshControlPlane, .delete(key.itemID), in: work)
        if key.isMesh {
            let policies = try db.query(
                "DELETE FROM mesh_resources WHERE mesh_cp_id = ? AND mesh = ? RETURNING type, mesh, name",
                .text(meshControlPlane), .text(key.mesh))
            for row in policies {
                let policy = MeshResourceKey(
                    type: try row.text("type"), mesh: try row.text("mesh"), name: try row.text("name"))
                policiesChanged(meshControlPlane, .delete(policy.itemID), in: work)
            }
        }
        return true
    }

    /// The Mesh control plane's configuration items in build order (by type, mesh and name).
    func items(meshControlPlane: String, in context: any GeoReading) throws -> [ConfigurationItem] {
        try context.transaction.query(
            "SELECT type, mesh, name, canonical, body FROM mesh_resources WHERE mesh_cp_id = ? ORDER BY type, mesh, name",
            .text(meshControlPlane)
        ).map { row in
            let key = MeshResourceKey(
                type: try row.text("type"), mesh: try row.text("mesh"), name: try row.text("name"))
            // Rows written before canonical bytes were stored get them from their body.
            let bytes = try row.blob("canonical") ?? row.document("body").canonicalBytes
            return ConfigurationItem(id: key.itemID, bytes: bytes)
        }
    }

    /// Notes the change; the Mesh control plane's new version is recorded once per write.
    private func policiesChanged(_ meshControlPlane: String, _ change: ConfigurationChange, in work: GeoWork) {
        work.noteItemChange(change, target: meshControlPlane)
        work.beforeCommit("mesh-configuration:" + meshControlPlane) { work in
            guard let recorded = try meshControlPlanes.recordConfiguration(meshControlPlane, in: work) else { return }
            let merged = ConfigurationDelta(merging: work.itemChanges(of: meshControlPlane)).changes
            try changes.append(
                merged, target: meshControlPlane, version: recorded.version, changesSince: recorded.changesSince,
                in: work)
        }
    }
}
