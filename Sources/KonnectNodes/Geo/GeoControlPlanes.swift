import KonnectCore
import KonnectHTTP
import KonnectSecurity
import KonnectStorage

/// Control planes (C1): `/v2/control-planes`, shaped like Konnect's control-planes-v2 API.
extension GeoNode {
    static let clusterTypes = [
        "CLUSTER_TYPE_CONTROL_PLANE", "CLUSTER_TYPE_K8S_INGRESS_CONTROLLER", "CLUSTER_TYPE_CONTROL_PLANE_GROUP",
        "CLUSTER_TYPE_SERVERLESS",
    ]
    static let authTypes = ["pinned_client_certs", "pki_client_certs"]

    var controlPlaneRoutes: [Router.Route] {
        [
            Router.route("GET", "/v2/control-planes", listControlPlanes),
            Router.route("POST", "/v2/control-planes", createControlPlane),
            Router.route("GET", "/v2/control-planes/{controlPlaneId}") { request in
                let caller = try self.caller(request)
                let row = try self.controlPlane(caller, request.parameter("controlPlaneId"), write: false)
                return HTTPResponse.json(self.controlPlaneJSON(row))
            },
            Router.route("PATCH", "/v2/control-planes/{controlPlaneId}", updateControlPlane),
            Router.route("DELETE", "/v2/control-planes/{controlPlaneId}", deleteControlPlane),
            Router.route("GET", "/v2/control-planes/{controlPlaneId}/expected-config-hash") { request in
                let caller = try self.caller(request)
                let row = try self.controlPlane(caller, request.parameter("controlPlaneId"), write: false)
                return HTTPResponse.json([
                    "expected_hash": .optional(row.string("config_hash")),
                    "created_at": .optional(row.int("created_at")),
                    "updated_at": .optional(row.int("config_updated_at")),
                ])
            },
            Router.route("GET", "/v2/control-planes/{controlPlaneId}/expected-config-version") { request in
                let caller = try self.caller(request)
                let row = try self.controlPlane(caller, request.parameter("controlPlaneId"), write: false)
                return HTTPResponse.json([
                    "expected_config_version": .string(String(row.int("config_version") ?? 0)),
                    "created_at": .optional(row.int("created_at")),
                ])
            },
        ]
    }

    /// Checks a path id is a UUID (400 naming the parameter otherwise).
    func requireUUID(_ value: String, _ field: String) throws(APIError) {
        guard IdentifierSource.isUUID(value) else {
            throw APIError.invalid(field: field, rule: "is_uuid", reason: "must be a UUID, got \"\(value.prefix(64))\"")
        }
    }

    static func controlPlaneNotFound() -> APIError { APIError.notFound("The requested control plane was not found.") }

    /// A control plane of the caller's organization in this geo; 404 for anything else (T3), 403 when
    /// the caller's roles do not reach it here.
    func controlPlane(_ caller: Caller, _ id: String, write: Bool) throws -> Row {
        try requireUUID(id, "controlPlaneId")
        let row = try db.read { db in
            try db.query(
                "SELECT * FROM control_planes WHERE id = ? AND org_id = ?", .text(id), .text(caller.organizationID)
            ).first
        }
        guard let row else { throw GeoNode.controlPlaneNotFound() }
        let permissions = caller.permissions
        let allowed =
            write ? permissions.canWriteControlPlane(id, geo: name) : permissions.canReadControlPlane(id, geo: name)
        guard allowed else {
            throw APIError(
                status: 403, title: "Permission denied",
                detail: "Your roles do not allow \(write ? "changing" : "reading") this control plane in geo \(name)")
        }
        return row
    }

    /// The caller and the control plane named by the path, checked as `controlPlane` checks it.
    func controlPlaneScope(_ request: APIRequest, write: Bool) throws -> (caller: Caller, id: String) {
        let caller = try caller(request)
        let id = request.parameter("controlPlaneId")
        _ = try controlPlane(caller, id, write: write)
        return (caller, id)
    }

    var dataPlaneEndpoint: String { "unix://" + configuration.directory + "/sock" }

    func controlPlaneJSON(_ row: Row) -> JSON {
        [
            "id": .optional(row.string("id")), "name": .optional(row.string("name")),
            "description": .string(row.string("description") ?? ""), "labels": row.json("labels"),
            "config": [
                "control_plane_endpoint": .string(dataPlaneEndpoint), "telemetry_endpoint": .string(dataPlaneEndpoint),
                "cluster_type": .optional(row.string("cluster_type")), "auth_type": .optional(row.string("auth_type")),
                "cloud_gateway": .bool(row.bool("cloud_gateway")), "proxy_urls": row.json("proxy_urls"),
            ],
            "created_at": SimTime.from(row.int("created_at"))?.json ?? .null,
            "updated_at": SimTime.from(row.int("updated_at"))?.json ?? .null,
        ]
    }

    func listControlPlanes(_ request: APIRequest) throws -> HTTPResponse {
        let caller = try self.caller(request)
        guard caller.permissions.canListControlPlanes(geo: name) else {
            throw APIError(
                status: 403, title: "Permission denied",
                detail: "Your roles do not include control planes in geo \(name)")
        }
        let page = try PageRequest(request, defaultSize: 10, maxSize: 100)
        var rows = try db.read { db in
            try db.query(
                "SELECT * FROM control_planes WHERE org_id = ? ORDER BY created_at, id", .text(caller.organizationID))
        }
        rows = rows.filter { caller.permissions.canReadControlPlane($0.string("id"), geo: name) }
        if let value = request.query("filter[name][eq]") ?? request.query("filter[name]") {
            rows = rows.filter { $0.string("name") == value }
        }
        if let value = request.query("filter[name][neq]") { rows = rows.filter { $0.string("name") != value } }
        if let value = request.query("filter[name][contains]") {
            rows = rows.filter { $0.string("name")?.contains(value) == true }
        }
        if let value = request.query("filter[cluster_type][eq]") ?? request.query("filter[cluster_type]") {
            rows = rows.filter { $0.string("cluster_type") == value }
        }
        if let value = request.query("filter[id][eq]") { rows = rows.filter { $0.string("id") == value } }
        if let filter = request.query("labels") {
            rows = rows.filter { Labels.matches($0.json("labels").objectValue ?? JSONObject(), filter: filter) }
        }
        for item in request.http.query where item.name.hasPrefix("filter[") {
            let known = [
                "filter[name][eq]", "filter[name]", "filter[name][neq]", "filter[name][contains]",
                "filter[cluster_type][eq]", "filter[cluster_type]", "filter[id][eq]",
            ]
            if !known.contains(item.name) {
                throw APIError.invalid(
                    field: item.name, rule: "invalid",
                    reason:
                        "is not a supported filter; use filter[name][eq|neq|contains], filter[cluster_type][eq] or filter[id][eq]"
                )
            }
        }
        return page.response(rows.map(controlPlaneJSON))
    }

    private struct ControlPlaneFields {
        var name: String?
        var description: String?
        var clusterType: String?
        var authType: String?
        var cloudGateway: Bool?
        var proxyURLs: JSON?
        var labels: JSON?
    }

    private func readControlPlane(_ body: JSON, creating: Bool) throws -> ControlPlaneFields {
        var reader = try ObjectReader(body)
        var fields = ControlPlaneFields()
        fields.name = reader.string("name", required: creating, nullable: false, minLength: 2, maxLength: 256)
        fields.description = reader.string("description", nullable: false, maxLength: 2048)
        if creating {
            fields.clusterType = reader.string("cluster_type", nullable: false, allowed: GeoNode.clusterTypes)
            fields.cloudGateway = reader.bool("cloud_gateway", nullable: false)
        }
        fields.authType = reader.string("auth_type", nullable: false, allowed: GeoNode.authTypes)
        if let raw = reader.raw("proxy_urls") {
            if let items = raw.arrayValue, items.count <= 5 {
                var valid: [JSON] = []
                for (index, item) in items.enumerated() {
                    guard var entry = try? ObjectReader(item, prefix: "proxy_urls[\(index)]") else {
                        reader.fail(
                            "proxy_urls[\(index)]", "is_object", "must be an object with host, port and protocol")
                        continue
                    }
                    let host = entry.string("host", required: true, nullable: false, minLength: 1, maxLength: 120)
                    let port = entry.int("port", required: true, nullable: false, min: 1, max: 65535)
                    let proto = entry.string("protocol", required: true, nullable: false, minLength: 1, maxLength: 32)
                    reader.absorb(entry, strict: true)
                    if let host, let port, let proto {
                        valid.append(["host": .string(host), "port": .int(port), "protocol": .string(proto)])
                    }
                }
                fields.proxyURLs = .array(valid)
            } else {
                reader.fail(
                    "proxy_urls", raw.arrayValue == nil ? "is_array" : "max_items",
                    raw.arrayValue == nil ? "must be an array" : "must have at most 5 items")
            }
        }
        if let labels = reader.object("labels") {
            if let problem = Labels.problem(labels, maxCount: 50) {
                reader.fail("labels", "is_label", problem)
            } else {
                fields.labels = .object(labels)
            }
        }
        try reader.finish()
        return fields
    }

    func createControlPlane(_ request: APIRequest) throws -> HTTPResponse {
        let caller = try self.caller(request)
        guard caller.permissions.canCreateControlPlanes(geo: name) else {
            throw APIError(
                status: 403, title: "Permission denied",
                detail: "Your roles do not allow creating control planes in geo \(name)")
        }
        let fields = try readControlPlane(try request.json(), creating: true)
        let now = caller.now
        let row = try db.write { db -> Row in
            let id = try ids.next(db)
            do {
                try db.execute(
                    """
                    INSERT INTO control_planes(id, org_id, name, description, labels, cluster_type, auth_type, cloud_gateway, proxy_urls,
                        created_at, updated_at, config_version, config_hash, config_updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
                    """, .text(id), .text(caller.organizationID), .text(fields.name ?? ""),
                    .text(fields.description ?? ""),
                    .text((fields.labels ?? [:]).text), .text(fields.clusterType ?? "CLUSTER_TYPE_CONTROL_PLANE"),
                    .text(fields.authType ?? "pinned_client_certs"), .bool(fields.cloudGateway ?? false),
                    .text((fields.proxyURLs ?? []).text),
                    .time(now), .time(now), .text(DeclarativeConfig.emptyHash), .time(now))
            } catch let error as DatabaseError where error.isConstraintViolation {
                throw APIError.conflict("Control Plane with provided name already exists.")
            }
            return try db.single(
                "SELECT * FROM control_planes WHERE id = ?", .text(id), missing: GeoNode.controlPlaneNotFound())
        }
        Log.info(
            "control plane \(row.string("id") ?? "") '\(fields.name ?? "")' created for organization \(caller.organizationID)"
        )
        return HTTPResponse.json(controlPlaneJSON(row), status: 201)
    }

    func updateControlPlane(_ request: APIRequest) throws -> HTTPResponse {
        let (caller, id) = try self.controlPlaneScope(request, write: true)
        let fields = try readControlPlane(try request.json(), creating: false)
        let now = caller.now
        let row = try db.write { db -> Row in
            _ = try db.single(
                "SELECT id FROM control_planes WHERE id = ? AND org_id = ?", .text(id), .text(caller.organizationID),
                missing: GeoNode.controlPlaneNotFound())
            do {
                if let value = fields.name {
                    try db.execute("UPDATE control_planes SET name = ? WHERE id = ?", .text(value), .text(id))
                }
            } catch let error as DatabaseError where error.isConstraintViolation {
                throw APIError.conflict("Control Plane with provided name already exists.")
            }
            if let value = fields.description {
                try db.execute("UPDATE control_planes SET description = ? WHERE id = ?", .text(value), .text(id))
            }
            if let value = fields.authType {
                try db.execute("UPDATE control_planes SET auth_type = ? WHERE id = ?", .text(value), .text(id))
            }
            if let value = fields.proxyURLs {
                try db.execute("UPDATE control_planes SET proxy_urls = ? WHERE id = ?", .text(value.text), .text(id))
            }
            if let value = fields.labels {
                try db.execute("UPDATE control_planes SET labels = ? WHERE id = ?", .text(value.text), .text(id))
            }
            try db.execute("UPDATE control_planes SET updated_at = ? WHERE id = ?", .time(now), .text(id))
            return try db.single(
                "SELECT * FROM control_planes WHERE id = ?", .text(id), missing: GeoNode.controlPlaneNotFound())
        }
        return HTTPResponse.json(controlPlaneJSON(row))
    }

    /// Deletes a control plane and everything in it; its data planes learn it is gone.
    func deleteControlPlane(_ request: APIRequest) throws -> HTTPResponse {
        let (caller, id) = try self.controlPlaneScope(request, write: true)
        try db.write { db in
            _ = try db.single(
                "SELECT id FROM control_planes WHERE id = ? AND org_id = ?", .text(id), .text(caller.organizationID),
                missing: GeoNode.controlPlaneNotFound())
            try removeControlPlane(db, id: id, organizationID: caller.organizationID, at: caller.now)
        }
        configChanged.fire()
        usageQueued.fire()
        return .noContent
    }

    /// Removes a control plane with its entities, credentials and node records; ends its services' usage.
    func removeControlPlane(_ db: Transaction, id: String, organizationID: String, at moment: SimTime) throws {
        for service in try db.query("SELECT id FROM entities WHERE cp_id = ? AND kind = 'service'", .text(id)) {
            try queueUsage(
                db,
                [
                    "type": "service_ended", "organization_id": .string(organizationID),
                    "id": .optional(service.string("id")), "control_plane_id": .string(id),
                    "at": moment.json,
                ])
        }
        try db.execute("DELETE FROM entities WHERE cp_id = ?", .text(id))
        try db.execute("DELETE FROM dp_credentials WHERE cp_id = ?", .text(id))
        try db.execute("DELETE FROM dp_nodes WHERE cp_id = ?", .text(id))
        try db.execute("DELETE FROM control_planes WHERE id = ?", .text(id))
    }

    /// Queues a usage record for the auth node in the caller's transaction (durable with the change).
    func queueUsage(_ db: Transaction, _ record: JSON) throws {
        try db.execute("INSERT INTO usage_outbox(record) VALUES (?)", .text(record.text))
    }

    /// A new configuration version: bumps the version and recomputes the hash of the full declarative
    /// configuration, in the same transaction as the change (C1).
    func bumpConfiguration(_ db: Transaction, controlPlaneID: String, at moment: SimTime) throws {
        let config = try declarativeConfig(db, controlPlaneID: controlPlaneID)
        let hash = config.isEmpty ? DeclarativeConfig.emptyHash : Secrets.md5Hex(config.canonicalBytes)
        try db.execute(
            "UPDATE control_planes SET config_version = config_version + 1, config_hash = ?, config_updated_at = ? WHERE id = ?",
            .text(hash),
            .time(moment), .text(controlPlaneID))
    }

    /// The declarative configuration of a control plane, from its entities.
    func declarativeConfig(_ db: Transaction, controlPlaneID: String) throws -> DeclarativeConfig {
        var collections: [GatewayEntityKind: [JSON]] = [:]
        for row in try db.query("SELECT kind, body FROM entities WHERE cp_id = ?", .text(controlPlaneID)) {
            guard let kind = GatewayEntityKind(rawValue: row.string("kind") ?? "") else { continue }
            collections[kind, default: []].append(row.json("body"))
        }
        return DeclarativeConfig(
            services: collections[.service] ?? [], routes: collections[.route] ?? [],
            consumers: collections[.consumer] ?? [],
            plugins: collections[.plugin] ?? [])
    }
}
