import KonnectCore
import KonnectHTTP
import KonnectSecurity
import KonnectStorage

/// Kong Mesh global control planes (D3, D5): geo objects holding meshes and policies, pushed to zone
/// control planes over the same channel data planes use, with the organization's Mesh license (P3).
extension GeoNode {
    /// Policy collections in paths, and the resource `type` each holds.
    static let policyTypes: [String: String] = [
        "meshtrafficpermissions": "MeshTrafficPermission", "meshtimeouts": "MeshTimeout", "meshretries": "MeshRetry",
    ]

    var meshRoutes: [Router.Route] {
        let base = "/v0/mesh/control-planes"
        let item = base + "/{meshControlPlaneId}"
        return [
            Router.route("GET", base) { request in
                let caller = try self.caller(request)
                let page = try PageRequest(request, defaultSize: 10, maxSize: 100)
                let rows = try self.db.read { db in
                    try db.query(
                        "SELECT * FROM mesh_control_planes WHERE org_id = ? ORDER BY created_at, id",
                        .text(caller.organizationID))
                }.filter { caller.permissions.canReadMesh($0.string("id"), geo: self.name) }
                return page.response(rows.map(self.meshControlPlaneJSON))
            },
            Router.route("POST", base, createMeshControlPlane),
            Router.route("GET", item) { request in
                let caller = try self.caller(request)
                return HTTPResponse.json(
                    self.meshControlPlaneJSON(
                        try self.meshControlPlane(caller, request.parameter("meshControlPlaneId"), write: false)))
            },
            Router.route("PATCH", item, updateMeshControlPlane),
            Router.route("DELETE", item) { request in
                let caller = try self.caller(request)
                let row = try self.meshControlPlane(caller, request.parameter("meshControlPlaneId"), write: true)
                try self.db.write { db in
                    try db.execute("DELETE FROM mesh_control_planes WHERE id = ?", .text(row.string("id") ?? ""))
                }
                self.configChanged.fire()
                return .noContent
            },
            Router.route("GET", item + "/api/meshes") { request in
                let (_, id) = try self.meshScope(request, write: false)
                let rows = try self.db.read { db in
                    try db.query(
                        "SELECT body FROM mesh_resources WHERE mesh_cp_id = ? AND type = 'Mesh' ORDER BY name",
                        .text(id))
                }
                return HTTPResponse.json([
                    "total": .int(rows.count), "items": .array(rows.map { $0.json("body") }), "next": .null,
                ])
            },
            Router.route("GET", item + "/api/meshes/{mesh}") { request in
                let (_, id) = try self.meshScope(request, write: false)
                return HTTPResponse.json(
                    try self.meshResource(
                        id, type: "Mesh", mesh: request.parameter("mesh"), name: request.parameter("mesh")))
            },
            Router.route("PUT", item + "/api/meshes/{mesh}") { request in
                try self.putMeshResource(request, collection: nil)
            },
            Router.route("DELETE", item + "/api/meshes/{mesh}") { request in
                try self.deleteMeshResource(request, collection: nil)
            },
            Router.route("GET", item + "/api/meshes/{mesh}/{policyType}") { request in
                let (_, id) = try self.meshScope(request, write: false)
                let type = try self.policyType(request)
                let rows = try self.db.read { db in
                    try db.query(
                        "SELECT body FROM mesh_resources WHERE mesh_cp_id = ? AND type = ? AND mesh = ? ORDER BY name",
                        .text(id), .text(type),
                        .text(request.parameter("mesh")))
                }
                return HTTPResponse.json([
                    "total": .int(rows.count), "items": .array(rows.map { $0.json("body") }), "next": .null,
                ])
            },
            Router.route("GET", item + "/api/meshes/{mesh}/{policyType}/{name}") { request in
                let (_, id) = try self.meshScope(request, write: false)
                return HTTPResponse.json(
                    try self.meshResource(
                        id, type: try self.policyType(request), mesh: request.parameter("mesh"),
                        name: request.parameter("name")))
            },
            Router.route("PUT", item + "/api/meshes/{mesh}/{policyType}/{name}") { request in
                try self.putMeshResource(request, collection: request.parameter("policyType"))
            },
            Router.route("DELETE", item + "/api/meshes/{mesh}/{policyType}/{name}") { request in
                try self.deleteMeshResource(request, collection: request.parameter("policyType"))
            },
            Router.route("POST", item + "/api/tokens/zone") { request in
                let (caller, id) = try self.meshScope(request, write: true)
                var reader = try ObjectReader(request.json())
                let zone = reader.string(
                    "zone", required: true, nullable: false, minLength: 1, maxLength: 64,
                    validate: GeoNode.zoneNameProblem)
                try reader.finish()
                let token = try self.issueZoneToken(meshControlPlaneID: id, zone: zone ?? "", at: caller.now)
                return HTTPResponse.json(["token": .string(token), "zone": .optional(zone)], status: 201)
            },
            Router.route("GET", item + "/api/zones") { request in
                let (_, id) = try self.meshScope(request, write: false)
                let rows = try self.db.read { db in
                    try db.query("SELECT * FROM zones WHERE mesh_cp_id = ? ORDER BY name", .text(id))
                }
                return HTTPResponse.json([
                    "total": .int(rows.count), "items": .array(rows.map(self.zoneJSON)), "next": .null,
                ])
            },
            Router.route("GET", item + "/api/zones/{zone}") { request in
                let (_, id) = try self.meshScope(request, write: false)
                guard
                    let row = try self.db.read({ db in
                        try db.query(
                            "SELECT * FROM zones WHERE mesh_cp_id = ? AND name = ?", .text(id),
                            .text(request.parameter("zone"))
                        ).first
                    })
                else {
                    throw APIError.notFound("No zone \(request.parameter("zone")) has connected to this control plane")
                }
                return HTTPResponse.json(self.zoneJSON(row))
            },
            Router.route("GET", "/internal/v1/zone/sync", unixOnly: true, zoneSyncStream),
            Router.route("POST", "/internal/v1/zone/ping", unixOnly: true, zonePing),
            Router.route("POST", "/internal/v1/operator/zone-tokens", unixOnly: true) { request in
                try self.operatorCredential(request, mesh: true)
            },
        ]
    }

    static func zoneNameProblem(_ name: String) -> String? {
        name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
            ? nil : "must use lower-case letters, digits and '-'"
    }

    func meshControlPlane(_ caller: Caller, _ id: String, write: Bool) throws -> Row {
        try requireUUID(id, "meshControlPlaneId")
        let row = try db.read { db in
            try db.query(
                "SELECT * FROM mesh_control_planes WHERE id = ? AND org_id = ?", .text(id), .text(caller.organizationID)
            ).first
        }
        guard let row else { throw APIError.notFound("The requested Mesh control plane was not found.") }
        let allowed =
            write ? caller.permissions.canWriteMesh(id, geo: name) : caller.permissions.canReadMesh(id, geo: name)
        guard allowed else {
            throw APIError(
                status: 403, title: "Permission denied",
                detail:
                    "Your roles do not allow \(write ? "changing" : "reading") this Mesh control plane in geo \(name)")
        }
        return row
    }

    private func meshScope(_ request: APIRequest, write: Bool) throws -> (Caller, String) {
        let caller = try self.caller(request)
        let id = request.parameter("meshControlPlaneId")
        _ = try meshControlPlane(caller, id, write: write)
        return (caller, id)
    }

    private func policyType(_ request: APIRequest) throws -> String {
        let collection = request.parameter("policyType")
        guard let type = GeoNode.policyTypes[collection] else {
            throw APIError.notFound(
                "Unknown policy collection '\(collection)'; supported: \(GeoNode.policyTypes.keys.sorted().joined(separator: ", "))"
            )
        }
        return type
    }

    func meshControlPlaneJSON(_ row: Row) -> JSON {
        [
            "id": .optional(row.string("id")), "name": .optional(row.string("name")),
            "description": .string(row.string("description") ?? ""),
            "labels": row.json("labels"), "features": [], "geo": .string(name),
            "created_at": SimTime.from(row.int("created_at"))?.json ?? .null,
            "updated_at": SimTime.from(row.int("updated_at"))?.json ?? .null,
        ]
    }

    func createMeshControlPlane(_ request: APIRequest) throws -> HTTPResponse {
        let caller = try self.caller(request)
        guard caller.permissions.canWriteMesh(nil, geo: name) else {
            throw APIError(
                status: 403, title: "Permission denied",
                detail: "Your roles do not allow creating Mesh control planes in geo \(name)")
        }
        var reader = try ObjectReader(request.json())
        let meshName = reader.string("name", required: true, nullable: false, minLength: 1, maxLength: 100)
        let description = reader.string("description", nullable: false, maxLength: 2048)
        var labels: JSON = [:]
        if let object = reader.object("labels") {
            if let problem = Labels.problem(object, maxCount: 50) {
                reader.fail("labels", "is_label", problem)
            } else {
                labels = .object(object)
            }
        }
        try reader.finish()
        let now = caller.now
        let row = try db.write { db -> Row in
            let id = try ids.next(db)
            do {
                try db.execute(
                    "INSERT INTO mesh_control_planes(id, org_id, name, description, labels, created_at, updated_at, config_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    .text(id), .text(caller.organizationID), .text(meshName ?? ""), .text(description ?? ""),
                    .text(labels.text), .time(now), .time(now),
                    .text(DeclarativeConfig.emptyHash))
            } catch let error as DatabaseError where error.isConstraintViolation {
                throw APIError.conflict("A Mesh control plane named \(meshName ?? "") already exists.")
            }
            return try db.single(
                "SELECT * FROM mesh_control_planes WHERE id = ?", .text(id),
                missing: APIError.notFound("The requested Mesh control plane was not found."))
        }
        return HTTPResponse.json(meshControlPlaneJSON(row), status: 201)
    }

    func updateMeshControlPlane(_ request: APIRequest) throws -> HTTPResponse {
        let caller = try self.caller(request)
        let id = request.parameter("meshControlPlaneId")
        _ = try meshControlPlane(caller, id, write: true)
        var reader = try ObjectReader(request.json())
        let meshName = reader.string("name", nullable: false, minLength: 1, maxLength: 100)
        let description = reader.string("description", nullable: false, maxLength: 2048)
        let labels = reader.object("labels")
        if let labels, let problem = Labels.problem(labels, maxCount: 50) { reader.fail("labels", "is_label", problem) }
        try reader.finish()
        let row = try db.write { db -> Row in
            _ = try db.single(
                "SELECT id FROM mesh_control_planes WHERE id = ? AND org_id = ?", .text(id),
                .text(caller.organizationID),
                missing: APIError.notFound("The requested Mesh control plane was not found."))
            do {
                if let meshName {
                    try db.execute("UPDATE mesh_control_planes SET name = ? WHERE id = ?", .text(meshName), .text(id))
                }
            } catch let error as DatabaseError where error.isConstraintViolation {
                throw APIError.conflict("A Mesh control plane named \(meshName ?? "") already exists.")
            }
            if let description {
                try db.execute(
                    "UPDATE mesh_control_planes SET description = ? WHERE id = ?", .text(description), .text(id))
            }
            if let labels {
                try db.execute(
                    "UPDATE mesh_control_planes SET labels = ? WHERE id = ?", .text(JSON.object(labels).text), .text(id)
                )
            }
            try db.execute("UPDATE mesh_control_planes SET updated_at = ? WHERE id = ?", .time(caller.now), .text(id))
            return try db.single(
                "SELECT * FROM mesh_control_planes WHERE id = ?", .text(id),
                missing: APIError.notFound("The requested Mesh control plane was not found."))
        }
        return HTTPResponse.json(meshControlPlaneJSON(row))
    }

    private func meshResource(_ id: String, type: String, mesh: String, name resourceName: String) throws -> JSON {
        guard
            let row = try db.read({ db in
                try db.query(
                    "SELECT body FROM mesh_resources WHERE mesh_cp_id = ? AND type = ? AND mesh = ? AND name = ?",
                    .text(id), .text(type), .text(mesh),
                    .text(resourceName)
                ).first
            })
        else { throw APIError.notFound("No \(type) named \(resourceName)\(type == "Mesh" ? "" : " in mesh \(mesh)")") }
        return row.json("body")
    }

    /// PUT a mesh (collection nil) or a policy: creates or replaces it, and pushes a new version.
    private func putMeshResource(_ request: APIRequest, collection: String?) throws -> HTTPResponse {
        let (caller, id) = try meshScope(request, write: true)
        let mesh = request.parameter("mesh")
        let type = try collection.map { _ in try policyType(request) } ?? "Mesh"
        let resourceName = collection == nil ? mesh : request.parameter("name")
        for (field, value) in [("mesh", mesh), ("name", resourceName)]
        where GeoNode.zoneNameProblem(value) != nil || value.count > 100 {
            throw APIError.invalid(
                field: field, rule: "invalid", reason: "must be 1 to 100 lower-case letters, digits and '-'")
        }
        var reader = try ObjectReader(request.json())
        let givenType = reader.string("type", required: true, nullable: false, allowed: [type])
        let givenName = reader.string("name", required: true, nullable: false, allowed: [resourceName])
        var spec: JSONObject? = nil
        if collection != nil {
            _ = reader.string("mesh", nullable: false, allowed: [mesh])
            spec = reader.object("spec", required: true, nullable: false)
            if let rules = spec, rules.isEmpty { reader.fail("spec", "invalid", "must not be empty") }
        }
        let labels = reader.object("labels")
        try reader.finish(strict: collection != nil)
        _ = (givenType, givenName)
        var body = reader.object
        body["type"] = .string(type)
        body["name"] = .string(resourceName)
        if collection != nil { body["mesh"] = .string(mesh) }
        if let labels { body["labels"] = .object(labels) }
        let now = caller.now
        let created = try db.write { db -> Bool in
            if collection != nil,
                try db.query(
                    "SELECT 1 FROM mesh_resources WHERE mesh_cp_id = ? AND type = 'Mesh' AND name = ?", .text(id),
                    .text(mesh)
                ).first == nil
            {
                throw APIError.notFound("No mesh named \(mesh): create it first with PUT .../api/meshes/\(mesh)")
            }
            let existing = try db.query(
                "SELECT created_at FROM mesh_resources WHERE mesh_cp_id = ? AND type = ? AND mesh = ? AND name = ?",
                .text(id), .text(type), .text(mesh),
                .text(resourceName)
            ).first
            let createdAt = existing?.time("created_at") ?? now
            body["creationTime"] = createdAt.json
            body["modificationTime"] = now.json
            if existing != nil {
                try db.execute(
                    "UPDATE mesh_resources SET body = ?, updated_at = ? WHERE mesh_cp_id = ? AND type = ? AND mesh = ? AND name = ?",
                    .text(JSON.object(body).text), .time(now), .text(id), .text(type), .text(mesh), .text(resourceName))
            } else {
                try db.execute(
                    "INSERT INTO mesh_resources(id, mesh_cp_id, type, mesh, name, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    .text(try ids.next(db)), .text(id), .text(type), .text(mesh), .text(resourceName),
                    .text(JSON.object(body).text), .time(now), .time(now))
            }
            try bumpMeshConfiguration(db, meshControlPlaneID: id)
            return existing == nil
        }
        configChanged.fire()
        return HTTPResponse.json(.object(body), status: created ? 201 : 200)
    }

    private func deleteMeshResource(_ request: APIRequest, collection: String?) throws -> HTTPResponse {
        let (_, id) = try meshScope(request, write: true)
        let mesh = request.parameter("mesh")
        let type = try collection.map { _ in try policyType(request) } ?? "Mesh"
        let resourceName = collection == nil ? mesh : request.parameter("name")
        let removed = try db.write { db -> Int in
            let count = try db.execute(
                "DELETE FROM mesh_resources WHERE mesh_cp_id = ? AND type = ? AND mesh = ? AND name = ?", .text(id),
                .text(type), .text(mesh), .text(resourceName))
            if collection == nil && count > 0 {
                try db.execute("DELETE FROM mesh_resources WHERE mesh_cp_id = ? AND mesh = ?", .text(id), .text(mesh))
            }
            if count > 0 { try bumpMeshConfiguration(db, meshControlPlaneID: id) }
            return count
        }
        guard removed > 0 else { throw APIError.notFound("No \(type) named \(resourceName)") }
        configChanged.fire()
        return .noContent
    }

    /// The policies a zone receives: meshes and policies, sorted, hashed like a data plane's configuration.
    func meshPolicies(_ db: Transaction, meshControlPlaneID: String) throws -> JSON {
        let rows = try db.query(
            "SELECT type, body FROM mesh_resources WHERE mesh_cp_id = ? ORDER BY type, mesh, name",
            .text(meshControlPlaneID))
        return [
            "meshes": .array(rows.filter { $0.string("type") == "Mesh" }.map { $0.json("body") }),
            "policies": .array(rows.filter { $0.string("type") != "Mesh" }.map { $0.json("body") }),
        ]
    }

    func bumpMeshConfiguration(_ db: Transaction, meshControlPlaneID: String) throws {
        let policies = try meshPolicies(db, meshControlPlaneID: meshControlPlaneID)
        let empty = policies["meshes"]?.arrayValue?.isEmpty == true && policies["policies"]?.arrayValue?.isEmpty == true
        let hash = empty ? DeclarativeConfig.emptyHash : Secrets.md5Hex(policies.canonicalBytes)
        try db.execute(
            "UPDATE mesh_control_planes SET config_version = config_version + 1, config_hash = ? WHERE id = ?",
            .text(hash), .text(meshControlPlaneID))
    }

    // MARK: - Zones

    /// A zone token (`spat_...`) for one zone of one Mesh global control plane.
    func issueZoneToken(meshControlPlaneID: String, zone: String, at moment: SimTime) throws -> String {
        let token = Secrets.token(prefix: "spat_")
        try db.write { db in
            try db.execute(
                "INSERT INTO zone_tokens(id, mesh_cp_id, zone, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                .text(try ids.next(db)),
                .text(meshControlPlaneID), .text(zone), .text(Secrets.sha256Hex(token)), .time(moment))
        }
        return token
    }

    func zoneForToken(_ token: String?) -> (meshControlPlaneID: String, zone: String)? {
        guard let token, token.count <= 512 else { return nil }
        let row = try? db.read { db in
            try db.query(
                "SELECT mesh_cp_id, zone FROM zone_tokens WHERE secret_hash = ?", .text(Secrets.sha256Hex(token))
            ).first
        }
        guard let row, let id = row.string("mesh_cp_id"), let zone = row.string("zone") else { return nil }
        return (id, zone)
    }

    func meshSyncState(_ id: String) -> SyncState {
        guard
            let state = try? db.read({ db -> SyncState in
                guard
                    let row = try db.query(
                        "SELECT org_id, config_version FROM mesh_control_planes WHERE id = ?", .text(id)
                    ).first
                else { return .deleted }
                if let reason = try db.query(
                    "SELECT reason FROM decommissioned_orgs WHERE org_id = ?", .text(row.string("org_id") ?? "")
                ).first?.string("reason") {
                    return .decommissioned(
                        reason: "organization deactivated (\(reason)): the Mesh global control plane is decommissioned")
                }
                return .active(version: row.int("config_version") ?? 0)
            })
        else { return .deleted }
        return state
    }

    func meshMessage(_ id: String, version: Int64) throws -> [UInt8] {
        try db.read { db -> [UInt8] in
            guard let row = try db.query("SELECT * FROM mesh_control_planes WHERE id = ?", .text(id)).first else {
                throw APIError.notFound("The Mesh control plane was deleted")
            }
            let license =
                try db.query("SELECT mesh FROM org_licenses WHERE org_id = ?", .text(row.string("org_id") ?? "")).first?
                .json("mesh") ?? .null
            let message: JSON = [
                "type": "config", "mesh_control_plane_id": .string(id), "version": .optional(row.int("config_version")),
                "hash": .optional(row.string("config_hash")), "policies": try meshPolicies(db, meshControlPlaneID: id),
                "license": license,
            ]
            return message.bytes + [0x0A]
        }
    }

    /// `GET /internal/v1/zone/sync`: a zone's push channel; connect and disconnect times are recorded
    /// like Kuma's ZoneInsight.
    func zoneSyncStream(_ request: APIRequest) throws -> HTTPResponse {
        guard let (id, zone) = zoneForToken(request.bearerToken) else {
            throw APIError(status: 401, detail: "Unauthorized: the zone token is unknown or was revoked")
        }
        let claimed = request.http.headers["x-zone-name"] ?? ""
        guard claimed == zone else {
            throw APIError(status: 403, detail: "This token was issued for zone \(zone), not \(claimed)")
        }
        let version = String((request.http.headers["x-zone-version"] ?? "2.9.0").prefix(64))
        let hash = String((request.http.headers["x-config-hash"] ?? DeclarativeConfig.emptyHash).prefix(64))
        let now = wallSeconds()
        try db.write { db in
            try db.execute(
                """
                INSERT INTO zones(mesh_cp_id, name, version, config_hash, connected_at, disconnected_at, last_seen) VALUES (?, ?, ?, ?, ?, NULL, ?)
                ON CONFLICT(mesh_cp_id, name) DO UPDATE SET version = excluded.version, config_hash = excluded.config_hash,
                    connected_at = excluded.connected_at, disconnected_at = NULL, last_seen = excluded.last_seen
                """, .text(id), .text(zone), .text(version), .text(hash), .int(now), .int(now))
        }
        let token = request.bearerToken ?? ""
        return pushStream(
            stillAuthorized: { [self] in zoneForToken(token)?.meshControlPlaneID == id },
            state: { [self] in meshSyncState(id) },
            message: { [self] version in try meshMessage(id, version: version) },
            onClose: { [self] in
                _ = try? db.write { db in
                    try db.execute(
                        "UPDATE zones SET disconnected_at = ? WHERE mesh_cp_id = ? AND name = ?", .int(wallSeconds()),
                        .text(id), .text(zone))
                }
            })
    }

    func zonePing(_ request: APIRequest) throws -> HTTPResponse {
        guard let (id, zone) = zoneForToken(request.bearerToken) else {
            throw APIError(status: 401, detail: "Unauthorized: the zone token is unknown or was revoked")
        }
        var reader = try ObjectReader(request.json())
        let hash = reader.string("config_hash", required: true, nullable: false, maxLength: 64)
        let workloads = reader.int("workloads", nullable: false, min: 0, max: 1_000_000) ?? 0
        _ = reader.raw("state")
        try reader.finish()
        try db.write { db in
            try db.execute(
                "UPDATE zones SET config_hash = ?, workloads = ?, last_seen = ? WHERE mesh_cp_id = ? AND name = ?",
                .text(hash ?? ""), .int(workloads),
                .int(wallSeconds()), .text(id), .text(zone))
        }
        return .noContent
    }

    func zoneJSON(_ row: Row) -> JSON {
        let connected = row.int("connected_at")
        let disconnected = row.int("disconnected_at")
        return [
            "name": .optional(row.string("name")), "enabled": true,
            "state": .string(disconnected == nil && connected != nil ? "online" : "offline"),
            "workloads": .optional(row.int("workloads")), "config_hash": .optional(row.string("config_hash")),
            "zoneInsight": [
                "subscriptions": [
                    [
                        "connectTime": connected.map { .string(SimTime(seconds: $0).iso8601) } ?? .null,
                        "disconnectTime": disconnected.map { .string(SimTime(seconds: $0).iso8601) } ?? .null,
                    ]
                ],
                "version": ["kumaCp": ["version": .optional(row.string("version"))]],
            ],
        ]
    }
}
