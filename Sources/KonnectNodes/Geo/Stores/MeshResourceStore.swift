import KonnectCore
import KonnectSecurity
import KonnectStorage

/// Where a Mesh resource lives: a mesh is named by itself, a policy by its mesh and name.
struct MeshResourceKey: Sendable, Hashable {
    /// `Mesh`, `MeshTrafficPermission`, `MeshTimeout`, `MeshRetry`.
    var type: String
    var mesh: String
    var name: String

    var isMesh: Bool { type == "Mesh" }
}

/// `mesh_resources`: the meshes and policies of each Mesh global control plane, as Kuma's API returns
/// them. Every write gives the control plane a new policies version, computed once just before the
/// write commits.
struct MeshResourceStore: Sendable {
    let database: GeoDatabase
    let meshControlPlanes: MeshControlPlaneStore

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
        let updated = try db.execute(
            "UPDATE mesh_resources SET body = ?, updated_at = ? WHERE mesh_cp_id = ? AND type = ? AND mesh = ? AND name = ?",
            .text(body.text), .time(moment), .text(meshControlPlane), .text(key.type), .text(key.mesh),
            .text(key.name))
        if updated == 0 {
            try db.execute(
                "INSERT INTO mesh_resources(id, mesh_cp_id, type, mesh, name, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                .text(try database.newID(work)), .text(meshControlPlane), .text(key.type), .text(key.mesh),
                .text(key.name), .text(body.text), .time(moment), .time(moment))
        }
        policiesChanged(meshControlPlane, in: work)
    }

    /// Deletes a resource (a mesh with all its policies); false when it does not exist.
    func delete(_ key: MeshResourceKey, meshControlPlane: String, in work: GeoWork) throws -> Bool {
        let db = work.transaction
        let removed = try db.execute(
            "DELETE FROM mesh_resources WHERE mesh_cp_id = ? AND type = ? AND mesh = ? AND name = ?",
            .text(meshControlPlane), .text(key.type), .text(key.mesh), .text(key.name))
        guard removed > 0 else { return false }
        if key.isMesh {
            try db.execute(
                "DELETE FROM mesh_resources WHERE mesh_cp_id = ? AND mesh = ?", .text(meshControlPlane), .text(key.mesh)
            )
        }
        policiesChanged(meshControlPlane, in: work)
        return true
    }

    /// What a zone receives: `{meshes, policies}`, sorted by type, mesh and name.
    func policies(meshControlPlane: String, in context: (any GeoReading)? = nil) throws -> JSON {
        try database.reading(context) { db in
            let rows = try db.query(
                "SELECT type, body FROM mesh_resources WHERE mesh_cp_id = ? ORDER BY type, mesh, name",
                .text(meshControlPlane))
            var meshes: [JSON] = []
            var policies: [JSON] = []
            for row in rows {
                if try row.text("type") == "Mesh" {
                    meshes.append(try row.document("body"))
                } else {
                    policies.append(try row.document("body"))
                }
            }
            return ["meshes": .array(meshes), "policies": .array(policies)]
        }
    }

    private func policiesChanged(_ meshControlPlane: String, in work: GeoWork) {
        work.beforeCommit("mesh-configuration:" + meshControlPlane) {
            let policies = try self.policies(meshControlPlane: meshControlPlane, in: work)
            let empty =
                policies["meshes"]?.arrayValue?.isEmpty == true && policies["policies"]?.arrayValue?.isEmpty == true
            let hash = empty ? DeclarativeConfig.emptyHash : Secrets.md5Hex(policies.canonicalBytes)
            try meshControlPlanes.recordConfiguration(meshControlPlane, hash: hash, in: work)
        }
    }
}
