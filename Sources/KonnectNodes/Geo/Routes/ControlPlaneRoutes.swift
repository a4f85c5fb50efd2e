import KonnectCore
import KonnectHTTP

/// Control planes (C1): `/v2/control-planes`, shaped like Konnect's control-planes-v2 API.
struct ControlPlaneRoutes: Sendable {
    let geo: String
    /// Where data planes connect (the geo's Unix socket), shown in each control plane's `config`.
    let dataPlaneEndpoint: String
    let access: ControlPlaneAccess
    let database: GeoDatabase
    let controlPlanes: ControlPlaneStore
    let removal: ControlPlaneRemoval
    let creatorRoles: CreatorRoles
    /// Kong's hash of the configuration, built when asked for.
    let builds: ConfigurationBuilds

    /// control-planes-v2's `ControlPlaneFilterParameters` (plus the `filter[name]` and
    /// `filter[cluster_type]` shorthands for `[eq]`).
    static let filters = [
        "filter[id][eq]", "filter[id][oeq]", "filter[name][eq]", "filter[name]", "filter[name][neq]",
        "filter[name][contains]", "filter[cluster_type][eq]", "filter[cluster_type]", "filter[cluster_type][neq]",
        "filter[cluster_type][oeq]", "filter[cloud_gateway]",
    ]

    var routes: [Router.Route] {
        [
            Router.route("GET", "/v2/control-planes", list),
            Router.route("POST", "/v2/control-planes", create),
            Router.route("GET", "/v2/control-planes/{controlPlaneId}") { request in
                HTTPResponse.json(json(try access.scope(request, write: false).controlPlane))
            },
            Router.route("PATCH", "/v2/control-planes/{controlPlaneId}", update),
            Router.route("DELETE", "/v2/control-planes/{controlPlaneId}", delete),
            Router.route("GET", "/v2/control-planes/{controlPlaneId}/expected-config-hash") { request in
                let controlPlane = try access.scope(request, write: false).controlPlane
                guard let build = try builds.latest(controlPlane.id) else { throw ControlPlaneStore.notFound() }
                return HTTPResponse.json([
                    "expected_hash": .string(build.hash),
                    "created_at": .int(controlPlane.createdAt.seconds),
                    "updated_at": .int(controlPlane.configUpdatedAt.seconds),
                ])
            },
            Router.route("GET", "/v2/control-planes/{controlPlaneId}/expected-config-version") { request in
                let controlPlane = try access.scope(request, write: false).controlPlane
                return HTTPResponse.json([
                    "expected_config_version": .string(String(controlPlane.configVersion)),
                    "created_at": .int(controlPlane.createdAt.seconds),
                ])
            },
        ]
    }

    func json(_ controlPlane: ControlPlane) -> JSON {
        [
            "id": .string(controlPlane.id), "name": .string(controlPlane.name),
            "description": .string(controlPlane.description), "labels": controlPlane.labels,
            "config": [
                "control_plane_endpoint": .string(dataPlaneEndpoint), "telemetry_endpoint": .string(dataPlaneEndpoint),
                "cluster_type": .string(controlPlane.clusterType), "auth_type": .string(controlPlane.authType),
                "cloud_gateway": .bool(controlPlane.cloudGateway), "proxy_urls": controlPlane.proxyURLs,
            ],
            "created_at": controlPlane.createdAt.json, "updated_at": controlPlane.updatedAt.json,
        ]
    }

    func list(_ request: APIRequest) throws -> HTTPResponse {
        let caller = try access.authenticator.caller(request)
        guard caller.permissions.canListControlPlanes(geo: geo) else {
            throw permissionDenied("Your roles do not include control planes in geo \(geo)")
        }
        let page = try PageRequest(request, defaultSize: 10, maxSize: 100)
        for item in request.http.query
        where item.name.hasPrefix("filter[") && !ControlPlaneRoutes.filters.contains(item.name) {
            throw APIError.invalid(
                field: item.name, rule: "invalid",
                reason:
                    "is not a supported filter; use filter[id][eq|oeq], filter[name][eq|neq|contains], filter[cluster_type][eq|neq|oeq] or filter[cloud_gateway]"
            )
        }
        let order = try ControlPlaneOrder(request.query("sort"))
        var found = try controlPlanes.list(organization: caller.organizationID).filter {
            caller.permissions.canReadControlPlane($0.id, geo: geo)
        }
        func anyOf(_ text: String) -> Set<String> { Set(text.split(separator: ",").map(String.init)) }
        if let value = request.query("filter[id][eq]") { found = found.filter { $0.id == value.lowercased() } }
        if let value = request.query("filter[id][oeq]") {
            let ids = Set(anyOf(value).map { $0.lowercased() })
            found = found.filter { ids.contains($0.id) }
        }
        if let value = request.query("filter[name][eq]") ?? request.query("filter[name]") {
            found = found.filter { $0.name == value }
        }
        if let value = request.query("filter[name][neq]") { found = found.filter { $0.name != value } }
        if let value = request.query("filter[name][contains]") { found = found.filter { $0.name.contains(value) } }
        if let value = request.query("filter[cluster_type][eq]") ?? request.query("filter[cluster_type]") {
            found = found.filter { $0.clusterType == value }
        }
        if let value = request.query("filter[cluster_type][neq]") { found = found.filter { $0.clusterType != value } }
        if let value = request.query("filter[cluster_type][oeq]") {
            let types = anyOf(value)
            found = found.filter { types.contains($0.clusterType) }
        }
        if let value = request.query("filter[cloud_gateway]") {
            guard let flag = Bool(value) else {
                throw APIError.invalid(
                    field: "filter[cloud_gateway]", rule: "is_boolean",
                    reason: "must be true or false, got \"\(value.prefix(32))\"")
            }
            found = found.filter { $0.cloudGateway == flag }
        }
        if let filter = request.query("labels") {
            found = found.filter { Labels.matches($0.labels.objectValue ?? JSONObject(), filter: filter) }
        }
        return page.response(order.sorted(found).map(json))
    }

    private func fields(_ body: JSON, creating: Bool) throws -> ControlPlaneFields {
        var reader = try ObjectReader(body)
        var fields = ControlPlaneFields()
        fields.name = reader.string("name", required: creating, nullable: false, minLength: 2, maxLength: 256)
        fields.description = reader.string("description", nullable: false, maxLength: 2048)
        if creating {
            fields.clusterType = reader.string(
                "cluster_type", nullable: false, allowed: ControlPlaneTypes.clusterTypes)
            fields.cloudGateway = reader.bool("cloud_gateway", nullable: false)
        }
        fields.authType = reader.string("auth_type", nullable: false, allowed: ControlPlaneTypes.authTypes)
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
                if raw.arrayValue == nil {
                    reader.fail("proxy_urls", "is_array", "must be an array")
                } else {
                    reader.fail("proxy_urls", "max_items", "must have at most 5 items", maximum: 5)
                }
            }
        }
        if let labels = reader.object("labels", nullable: false) {
            if let problem = Labels.problem(labels, maxCount: 50) {
                reader.fail("labels", "is_label", problem)
            } else {
                fields.labels = .object(labels)
            }
        }
        try reader.finish()
        return fields
    }

    func create(_ request: APIRequest) throws -> HTTPResponse {
        let caller = try access.authenticator.caller(request)
        guard caller.permissions.canCreateControlPlanes(geo: geo) else {
            throw permissionDenied("Your roles do not allow creating control planes in geo \(geo)")
        }
        let fields = try fields(try request.json(), creating: true)
        // A creator who may not write every control plane here becomes this one's Admin first (A4).
        var reserved: String? = nil
        if CreatorRoles.needed(caller, geo: geo) {
            if let name = fields.name,
                try controlPlanes.named(name).contains(where: {
                    $0.organizationID == caller.organizationID && $0.name == name
                })
            {
                throw ControlPlaneStore.nameTaken()
            }
            let id = try database.write { work in try database.newID(work) }
            try creatorRoles.grant(caller, controlPlaneID: id)
            reserved = id
        }
        let created = try database.write { work in
            try controlPlanes.create(
                fields, organization: caller.organizationID, at: caller.now, id: reserved, in: work)
        }
        Log.info("control plane \(created.id) '\(created.name)' created for organization \(caller.organizationID)")
        return HTTPResponse.json(json(created), status: 201)
    }

    func update(_ request: APIRequest) throws -> HTTPResponse {
        let (caller, controlPlane) = try access.scope(request, write: true)
        let fields = try fields(try request.json(), creating: false)
        let updated = try database.write { work in
            try controlPlanes.update(
                controlPlane.id, organization: caller.organizationID, fields, at: caller.now, in: work)
        }
        return HTTPResponse.json(json(updated))
    }

    /// Deletes a control plane and everything in it; its data planes learn it is gone.
    func delete(_ request: APIRequest) throws -> HTTPResponse {
        let (caller, controlPlane) = try access.scope(request, write: true)
        try database.write { work in
            // Re-read inside the transaction: a concurrent DELETE may have won.
            guard try controlPlanes.find(controlPlane.id, organization: caller.organizationID, in: work) != nil else {
                throw ControlPlaneStore.notFound()
            }
            try removal.remove(controlPlane.id, organization: caller.organizationID, at: caller.now, in: work)
        }
        return .noContent
    }
}
