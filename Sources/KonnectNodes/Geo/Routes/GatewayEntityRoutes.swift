import KonnectCore
import KonnectHTTP

/// Where a collection lives: top level, or under a parent entity (`services/{serviceId}/routes`).
struct EntityScope: Sendable {
    var kind: GatewayEntityKind
    var parent: (kind: GatewayEntityKind, parameter: String, field: String)?

    var basePath: String {
        var path = "/v2/control-planes/{controlPlaneId}/core-entities"
        if let parent { path += "/\(parent.kind.collection)/{\(parent.parameter)}" }
        return path + "/\(kind.collection)"
    }

    var itemParameter: String { "\(kind.rawValue)Id" }

    static let all: [EntityScope] = [
        EntityScope(kind: .service),
        EntityScope(kind: .route),
        EntityScope(kind: .consumer),
        EntityScope(kind: .plugin),
        EntityScope(kind: .route, parent: (.service, "serviceId", "service")),
        EntityScope(kind: .plugin, parent: (.service, "serviceId", "service")),
        EntityScope(kind: .plugin, parent: (.route, "routeId", "route")),
        EntityScope(kind: .plugin, parent: (.consumer, "consumerId", "consumer")),
    ]
}

/// Gateway entities under `/v2/control-planes/{id}/core-entities`, in Kong's Admin API shapes (C1):
/// services, routes, consumers and plugins, top-level and nested, with PUT upserts by id or name.
struct GatewayEntityRoutes: Sendable {
    let access: ControlPlaneAccess
    let database: GeoDatabase
    let entities: GatewayEntityStore
    let writer: GatewayEntityWriter
    let usage: UsageOutboxStore
    let builds: ConfigurationBuilds

    var routes: [Router.Route] {
        EntityScope.all.flatMap { scope -> [Router.Route] in
            let item = scope.basePath + "/{\(scope.itemParameter)}"
            return [
                Router.route("GET", scope.basePath, style: .kong) { request in try list(request, scope) },
                Router.route("POST", scope.basePath, style: .kong) { request in try create(request, scope) },
                Router.route("GET", item, style: .kong) { request in try get(request, scope) },
                Router.route("PUT", item, style: .kong) { request in try upsert(request, scope) },
                Router.route("PATCH", item, style: .kong) { request in try patch(request, scope) },
                Router.route("DELETE", item, style: .kong) { request in try delete(request, scope) },
            ]
        } + [
            Router.route("GET", "/v2/control-planes/{controlPlaneId}/core-entities/config", style: .kong) { request in
                let controlPlane = try access.scope(request, write: false).controlPlane
                guard let build = try builds.latest(controlPlane.id) else { throw ControlPlaneStore.notFound() }
                // The build's canonical bytes go out as they are (never parsed back on the geo).
                var body = Array("{\"version\":\(build.version),\"hash\":".utf8) + JSON.string(build.hash).bytes
                body += Array(",\"config\":".utf8)
                build.content.write { body.append(contentsOf: $0) }
                body += [UInt8(ascii: "}"), 0x0A]
                return HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], bytes: body)
            }
        ]
    }

    /// A control plane group is read-only: its configuration is the union of its members'.
    static func requireOwnConfiguration(_ controlPlane: ControlPlane) throws {
        guard controlPlane.clusterType != ControlPlaneTypes.group else {
            throw APIError.invalid(
                field: "controlPlaneId", rule: "invalid",
                reason:
                    "is a control plane group, which is read-only: configure its members (GET .../group-memberships)")
        }
    }

    /// The caller and the control plane of a write, which must not be a group.
    private func writable(_ request: APIRequest) throws -> (caller: Caller, controlPlane: ControlPlane) {
        let scope = try access.scope(request, write: true)
        try GatewayEntityRoutes.requireOwnConfiguration(scope.controlPlane)
        return scope
    }

    static func notFound(_ kind: GatewayEntityKind) -> APIError {
        APIError(status: 404, detail: "Not found: no such \(kind.displayName) in this control plane")
    }

    /// The parent entity of a nested path, or 404.
    private func parentID(_ request: APIRequest, _ scope: EntityScope, controlPlane: String, in context: any GeoReading)
        throws -> String?
    {
        guard let parent = scope.parent else { return nil }
        guard
            let found = try entities.find(
                parent.kind, request.parameter(parent.parameter), controlPlane: controlPlane, in: context)
        else { throw GatewayEntityRoutes.notFound(parent.kind) }
        return found.id
    }

    private func belongs(_ entity: GatewayEntity, to parentID: String?, _ scope: EntityScope) -> Bool {
        guard let parentID, let parent = scope.parent else { return true }
        return entity.body[parent.field]?["id"]?.stringValue == parentID
    }

    /// The entity named by the path (within its parent, for a nested path), or nil.
    private func target(_ request: APIRequest, _ scope: EntityScope, controlPlane: String, in context: any GeoReading)
        throws -> GatewayEntity?
    {
        let parent = try parentID(request, scope, controlPlane: controlPlane, in: context)
        let found = try entities.find(
            scope.kind, request.parameter(scope.itemParameter), controlPlane: controlPlane, in: context)
        return found.flatMap { belongs($0, to: parent, scope) ? $0 : nil }
    }

    func list(_ request: APIRequest, _ scope: EntityScope) throws -> HTTPResponse {
        let controlPlane = try access.scope(request, write: false).controlPlane.id
        var size = 100
        if let text = request.query("size") {
            guard let value = Int(text), (1...1000).contains(value) else {
                throw APIError.invalid(field: "size", rule: "invalid", reason: "must be an integer from 1 to 1000")
            }
            size = value
        }
        var offset = 0
        if let text = request.query("offset"), !text.isEmpty {
            guard let value = Int(text), value >= 0, value <= 10_000_000 else {
                throw APIError.invalid(field: "offset", rule: "invalid", reason: "is not an offset this API returned")
            }
            offset = value
        }
        var found = try database.read { snapshot in
            let parent = try parentID(request, scope, controlPlane: controlPlane, in: snapshot)
            return try entities.list(scope.kind, controlPlane: controlPlane, in: snapshot).filter {
                belongs($0, to: parent, scope)
            }
        }
        if let tags = request.query("tags") {
            let any = tags.contains("/")
            let wanted = tags.split(whereSeparator: { $0 == "," || $0 == "/" }).map(String.init)
            found = found.filter { entity in
                let have = Set(entity.body["tags"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                return any ? wanted.contains(where: have.contains) : wanted.allSatisfy(have.contains)
            }
        }
        if let name = request.query("filter[name][eq]") { found = found.filter { $0.name == name } }
        if let part = request.query("filter[name][contains]") {
            found = found.filter { $0.name?.contains(part) == true }
        }
        let page = offset < found.count ? Array(found[offset..<min(found.count, offset + size)]) : []
        let nextOffset = offset + size < found.count ? offset + size : nil
        var body = JSONObject([("data", .array(page.map(\.body)))])
        if let nextOffset {
            // The next page keeps every other query parameter (tags, filters).
            var query = request.http.query.filter { $0.name != "offset" && $0.name != "size" }
                .map { "\(PercentEncoding.encode($0.name))=\(PercentEncoding.encode($0.value))" }
            query += ["offset=\(nextOffset)", "size=\(size)"]
            body["next"] = .string("\(request.path)?\(query.joined(separator: "&"))")
            body["offset"] = .string(String(nextOffset))
        } else {
            body["next"] = .null
        }
        return HTTPResponse.json(.object(body))
    }

    func get(_ request: APIRequest, _ scope: EntityScope) throws -> HTTPResponse {
        let controlPlane = try access.scope(request, write: false).controlPlane.id
        guard
            let found = try database.read({ snapshot in
                try target(request, scope, controlPlane: controlPlane, in: snapshot)
            })
        else { throw GatewayEntityRoutes.notFound(scope.kind) }
        return HTTPResponse.json(found.body)
    }

    func create(_ request: APIRequest, _ scope: EntityScope) throws -> HTTPResponse {
        let (caller, controlPlane) = try writable(request)
        var input = try request.json()
        let requestedID = input["id"]?.stringValue
        if let requestedID, !IdentifierSource.isUUID(requestedID) {
            throw APIError.invalid(field: "id", rule: "is_uuid", reason: "must be a UUID")
        }
        let body = try database.write { work -> JSON in
            if let parent = try parentID(request, scope, controlPlane: controlPlane.id, in: work),
                let field = scope.parent?.field
            {
                input[field] = ["id": .string(parent)]
            }
            let validated = try GatewayEntityValidator.validate(scope.kind, input)
            return try writer.write(
                validated, id: requestedID?.lowercased(), replacing: nil, controlPlane: controlPlane.id,
                caller: caller, in: work)
        }
        return HTTPResponse.json(body, status: 201)
    }

    /// PUT: replaces the entity named by id or name, or creates it with that id or name.
    func upsert(_ request: APIRequest, _ scope: EntityScope) throws -> HTTPResponse {
        let (caller, controlPlane) = try writable(request)
        let key = request.parameter(scope.itemParameter)
        var input = try request.json()
        let (body, created) = try database.write { work -> (JSON, Bool) in
            if let parent = try parentID(request, scope, controlPlane: controlPlane.id, in: work),
                let field = scope.parent?.field
            {
                input[field] = ["id": .string(parent)]
            }
            let existing = try entities.find(scope.kind, key, controlPlane: controlPlane.id, in: work)
            // PUT by name: the name in the path is the entity's name (Kong), also on a replacement.
            if !IdentifierSource.isUUID(key),
                input[scope.kind.uniqueField] == nil || input[scope.kind.uniqueField] == .null
            {
                input[scope.kind.uniqueField] = .string(key)
            }
            let validated = try GatewayEntityValidator.validate(scope.kind, input)
            let body = try writer.write(
                validated, id: IdentifierSource.isUUID(key) ? key.lowercased() : nil, replacing: existing,
                controlPlane: controlPlane.id, caller: caller, in: work)
            return (body, existing == nil)
        }
        return HTTPResponse.json(body, status: created ? 201 : 200)
    }

    func patch(_ request: APIRequest, _ scope: EntityScope) throws -> HTTPResponse {
        let (caller, controlPlane) = try writable(request)
        let input = try request.json()
        let body = try database.write { work -> JSON in
            guard let existing = try target(request, scope, controlPlane: controlPlane.id, in: work) else {
                throw GatewayEntityRoutes.notFound(scope.kind)
            }
            let validated = try GatewayEntityValidator.validate(
                scope.kind, input, existing: existing.body.objectValue, partial: true)
            return try writer.write(
                validated, id: nil, replacing: existing, controlPlane: controlPlane.id, caller: caller, in: work)
        }
        return HTTPResponse.json(body)
    }

    /// DELETE: 204 also when it did not exist (Kong); a service that routes still use cannot go (400).
    func delete(_ request: APIRequest, _ scope: EntityScope) throws -> HTTPResponse {
        let (caller, controlPlane) = try writable(request)
        let cp = controlPlane.id
        try database.write { work in
            guard let entity = try target(request, scope, controlPlane: cp, in: work) else { return }
            let all = try entities.all(controlPlane: cp, in: work)
            if scope.kind == .service {
                let routes = all.filter { $0.kind == .route && $0.body["service"]?["id"]?.stringValue == entity.id }
                if !routes.isEmpty {
                    throw APIError(
                        status: 400,
                        detail:
                            "an existing 'routes' entity references this 'services' entity (\(routes.count) route\(routes.count == 1 ? "" : "s")); delete them first"
                    )
                }
                try usage.queue(
                    .serviceEnded(
                        organizationID: caller.organizationID, controlPlaneID: cp, serviceID: entity.id, at: caller.now),
                    in: work)
            }
            // Plugins scoped to the entity go with it, as in Kong.
            if scope.kind != .plugin {
                for plugin in all
                where plugin.kind == .plugin && plugin.body[scope.kind.rawValue]?["id"]?.stringValue == entity.id {
                    try entities.delete(plugin.id, controlPlane: cp, at: caller.now, in: work)
                }
            }
            try entities.delete(entity.id, controlPlane: cp, at: caller.now, in: work)
        }
        return .noContent
    }
}
