import KonnectCore
import KonnectHTTP

/// Meshes and policies of a Mesh global control plane, in Kuma's API shapes (`.../api/meshes/...`);
/// every change is a new policies version pushed to its zones.
struct MeshResourceRoutes: Sendable {
    let access: MeshAccess
    let database: GeoDatabase
    let resources: MeshResourceStore

    /// Policy collections in paths, and the resource `type` each holds.
    static let policyTypes: [String: String] = [
        "meshtrafficpermissions": "MeshTrafficPermission", "meshtimeouts": "MeshTimeout", "meshretries": "MeshRetry",
    ]

    var routes: [Router.Route] {
        let item = "/v0/mesh/control-planes/{meshControlPlaneId}"
        return [
            Router.route("GET", item + "/api/meshes") { request in
                let meshControlPlane = try access.scope(request, write: false).meshControlPlane
                return MeshResourceRoutes.list(
                    try resources.list(type: "Mesh", mesh: nil, meshControlPlane: meshControlPlane.id))
            },
            Router.route("GET", item + "/api/meshes/{mesh}") { request in
                let meshControlPlane = try access.scope(request, write: false).meshControlPlane
                return HTTPResponse.json(try resource(try key(request, collection: nil), meshControlPlane.id))
            },
            Router.route("PUT", item + "/api/meshes/{mesh}") { request in try put(request, collection: nil) },
            Router.route("DELETE", item + "/api/meshes/{mesh}") { request in try delete(request, collection: nil) },
            Router.route("GET", item + "/api/meshes/{mesh}/{policyType}") { request in
                let meshControlPlane = try access.scope(request, write: false).meshControlPlane
                return MeshResourceRoutes.list(
                    try resources.list(
                        type: try policyType(request), mesh: request.parameter("mesh"),
                        meshControlPlane: meshControlPlane.id))
            },
            Router.route("GET", item + "/api/meshes/{mesh}/{policyType}/{name}") { request in
                let meshControlPlane = try access.scope(request, write: false).meshControlPlane
                let key = try key(request, collection: request.parameter("policyType"))
                return HTTPResponse.json(try resource(key, meshControlPlane.id))
            },
            Router.route("PUT", item + "/api/meshes/{mesh}/{policyType}/{name}") { request in
                try put(request, collection: request.parameter("policyType"))
            },
            Router.route("DELETE", item + "/api/meshes/{mesh}/{policyType}/{name}") { request in
                try delete(request, collection: request.parameter("policyType"))
            },
        ]
    }

    static func list(_ items: [JSON]) -> HTTPResponse {
        HTTPResponse.json(["total": .int(items.count), "items": .array(items), "next": .null])
    }

    private func policyType(_ request: APIRequest) throws -> String {
        let collection = request.parameter("policyType")
        guard let type = MeshResourceRoutes.policyTypes[collection] else {
            throw APIError.notFound(
                "Unknown policy collection '\(collection)'; supported: \(MeshResourceRoutes.policyTypes.keys.sorted().joined(separator: ", "))"
            )
        }
        return type
    }

    /// The resource a path names: a mesh (collection nil), or a policy of a mesh.
    private func key(_ request: APIRequest, collection: String?) throws -> MeshResourceKey {
        let mesh = request.parameter("mesh")
        guard collection != nil else { return MeshResourceKey(type: "Mesh", mesh: mesh, name: mesh) }
        return MeshResourceKey(type: try policyType(request), mesh: mesh, name: request.parameter("name"))
    }

    private func resource(_ key: MeshResourceKey, _ meshControlPlane: String) throws -> JSON {
        guard let body = try resources.find(key, meshControlPlane: meshControlPlane) else {
            throw APIError.notFound("No \(key.type) named \(key.name)\(key.isMesh ? "" : " in mesh \(key.mesh)")")
        }
        return body
    }

    /// PUT a mesh (collection nil) or a policy: creates or replaces it, and pushes a new version.
    private func put(_ request: APIRequest, collection: String?) throws -> HTTPResponse {
        let (caller, meshControlPlane) = try access.scope(request, write: true)
        let key = try key(request, collection: collection)
        for (field, value) in [("mesh", key.mesh), ("name", key.name)]
        where MeshAccess.nameProblem(value) != nil || value.count > 100 {
            throw APIError.invalid(
                field: field, rule: "invalid", reason: "must be 1 to 100 lower-case letters, digits and '-'")
        }
        var reader = try ObjectReader(request.json())
        _ = reader.string("type", required: true, nullable: false, allowed: [key.type])
        _ = reader.string("name", required: true, nullable: false, allowed: [key.name])
        if collection != nil {
            _ = reader.string("mesh", nullable: false, allowed: [key.mesh])
            let spec = reader.object("spec", required: true, nullable: false)
            if let spec, spec.isEmpty { reader.fail("spec", "invalid", "must not be empty") }
        }
        let labels = reader.object("labels")
        try reader.finish(strict: collection != nil)
        var body = reader.object
        body["type"] = .string(key.type)
        body["name"] = .string(key.name)
        if collection != nil { body["mesh"] = .string(key.mesh) }
        if let labels { body["labels"] = .object(labels) }
        let now = caller.now
        let created = try database.write { work -> Bool in
            let meshKey = MeshResourceKey(type: "Mesh", mesh: key.mesh, name: key.mesh)
            if !key.isMesh, try resources.find(meshKey, meshControlPlane: meshControlPlane.id, in: work) == nil {
                throw APIError.notFound(
                    "No mesh named \(key.mesh): create it first with PUT .../api/meshes/\(key.mesh)")
            }
            let createdAt = try resources.createdAt(key, meshControlPlane: meshControlPlane.id, in: work)
            body["creationTime"] = (createdAt ?? now).json
            body["modificationTime"] = now.json
            try resources.put(key, body: .object(body), meshControlPlane: meshControlPlane.id, at: now, in: work)
            return createdAt == nil
        }
        return HTTPResponse.json(.object(body), status: created ? 201 : 200)
    }

    private func delete(_ request: APIRequest, collection: String?) throws -> HTTPResponse {
        let meshControlPlane = try access.scope(request, write: true).meshControlPlane
        let key = try key(request, collection: collection)
        let removed = try database.write { work in
            try resources.delete(key, meshControlPlane: meshControlPlane.id, in: work)
        }
        guard removed else { throw APIError.notFound("No \(key.type) named \(key.name)") }
        return .noContent
    }
}
