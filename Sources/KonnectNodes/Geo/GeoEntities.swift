import KonnectCore
import KonnectHTTP
import KonnectStorage

/// Gateway entities under `/v2/control-planes/{id}/core-entities`, in Kong's Admin API shapes (C1):
/// services, routes, consumers and plugins, top-level and nested, with PUT upserts by id or name.
extension GeoNode {
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
    }

    static let entityScopes: [EntityScope] = [
        EntityScope(kind: .service),
        EntityScope(kind: .route),
        EntityScope(kind: .consumer),
        EntityScope(kind: .plugin),
        EntityScope(kind: .route, parent: (.service, "serviceId", "service")),
        EntityScope(kind: .plugin, parent: (.service, "serviceId", "service")),
        EntityScope(kind: .plugin, parent: (.route, "routeId", "route")),
        EntityScope(kind: .plugin, parent: (.consumer, "consumerId", "consumer")),
    ]

    var entityRoutes: [Router.Route] {
        GeoNode.entityScopes.flatMap { scope -> [Router.Route] in
            let item = scope.basePath + "/{\(scope.itemParameter)}"
            return [
                Router.route("GET", scope.basePath, style: .kong) { request in try self.listEntities(request, scope) },
                Router.route("POST", scope.basePath, style: .kong) { request in try self.createEntity(request, scope) },
                Router.route("GET", item, style: .kong) { request in try self.getEntity(request, scope) },
                Router.route("PUT", item, style: .kong) { request in try self.upsertEntity(request, scope) },
                Router.route("PATCH", item, style: .kong) { request in try self.patchEntity(request, scope) },
                Router.route("DELETE", item, style: .kong) { request in try self.deleteEntity(request, scope) },
            ]
        } + [
            Router.route("GET", "/v2/control-planes/{controlPlaneId}/core-entities/config", style: .kong) { request in
                let caller = try self.caller(request)
                let id = request.parameter("controlPlaneId")
                let row = try self.controlPlane(caller, id, write: false)
                let config = try self.db.read { db in try self.declarativeConfig(db, controlPlaneID: id) }
                return HTTPResponse.json([
                    "version": .optional(row.int("config_version")), "hash": .optional(row.string("config_hash")),
                    "config": config.json,
                ])
            }
        ]
    }

    static func entityNotFound(_ kind: GatewayEntityKind) -> APIError {
        APIError(status: 404, detail: "Not found: no such \(kind.displayName) in this control plane")
    }

    /// Finds an entity by id or by its unique name.
    func findEntity(_ db: Transaction, controlPlaneID: String, kind: GatewayEntityKind, key: String) throws -> Row? {
        if IdentifierSource.isUUID(key),
            let row = try db.query(
                "SELECT * FROM entities WHERE id = ? AND cp_id = ? AND kind = ?", .text(key.lowercased()),
                .text(controlPlaneID), .text(kind.rawValue)
            ).first
        {
            return row
        }
        return try db.query(
            "SELECT * FROM entities WHERE cp_id = ? AND kind = ? AND name = ?", .text(controlPlaneID),
            .text(kind.rawValue), .text(key)
        ).first
    }

    /// The parent entity of a nested path, or 404.
    private func parentID(_ db: Transaction, _ request: APIRequest, _ scope: EntityScope, controlPlaneID: String) throws
        -> String?
    {
        guard let parent = scope.parent else { return nil }
        guard
            let row = try findEntity(
                db, controlPlaneID: controlPlaneID, kind: parent.kind, key: request.parameter(parent.parameter))
        else {
            throw GeoNode.entityNotFound(parent.kind)
        }
        return row.string("id")
    }

    private func belongs(_ row: Row, to parentID: String?, _ scope: EntityScope) -> Bool {
        guard let parentID, let parent = scope.parent else { return true }
        return row.json("body")[parent.field]?["id"]?.stringValue == parentID
    }

    func listEntities(_ request: APIRequest, _ scope: EntityScope) throws -> HTTPResponse {
        let (_, cpID) = try self.controlPlaneScope(request, write: false)
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
        var rows = try db.read { db -> [Row] in
            let parent = try parentID(db, request, scope, controlPlaneID: cpID)
            return try db.query(
                "SELECT * FROM entities WHERE cp_id = ? AND kind = ? ORDER BY created_at, id", .text(cpID),
                .text(scope.kind.rawValue)
            )
            .filter { belongs($0, to: parent, scope) }
        }
        if let tags = request.query("tags") {
            let any = tags.contains("/")
            let wanted = tags.split(whereSeparator: { $0 == "," || $0 == "/" }).map(String.init)
            rows = rows.filter { row in
                let have = Set(row.json("body")["tags"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                return any ? wanted.contains(where: have.contains) : wanted.allSatisfy(have.contains)
            }
        }
        if let name = request.query("filter[name][eq]") { rows = rows.filter { $0.string("name") == name } }
        if let part = request.query("filter[name][contains]") {
            rows = rows.filter { $0.string("name")?.contains(part) == true }
        }
        let page = offset < rows.count ? Array(rows[offset..<min(rows.count, offset + size)]) : []
        let nextOffset = offset + size < rows.count ? offset + size : nil
        var body = JSONObject([("data", .array(page.map { $0.json("body") }))])
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

    func getEntity(_ request: APIRequest, _ scope: EntityScope) throws -> HTTPResponse {
        let (_, cpID) = try self.controlPlaneScope(request, write: false)
        let row = try db.read { db -> Row? in
            let parent = try parentID(db, request, scope, controlPlaneID: cpID)
            let row = try findEntity(
                db, controlPlaneID: cpID, kind: scope.kind, key: request.parameter(scope.itemParameter))
            return row.flatMap { belongs($0, to: parent, scope) ? $0 : nil }
        }
        guard let row else { throw GeoNode.entityNotFound(scope.kind) }
        return HTTPResponse.json(row.json("body"))
    }

    func createEntity(_ request: APIRequest, _ scope: EntityScope) throws -> HTTPResponse {
        let (caller, cpID) = try self.controlPlaneScope(request, write: true)
        var input = try request.json()
        let requestedID = input["id"]?.stringValue
        if let requestedID, !IdentifierSource.isUUID(requestedID) {
            throw APIError.invalid(field: "id", rule: "is_uuid", reason: "must be a UUID")
        }
        let body = try db.write { db -> JSON in
            if let parent = try parentID(db, request, scope, controlPlaneID: cpID), let field = scope.parent?.field {
                input[field] = ["id": .string(parent)]
            }
            let validated = try GatewayEntityValidator.validate(scope.kind, input)
            return try store(
                db, validated, id: requestedID?.lowercased(), createdAt: nil, controlPlaneID: cpID, caller: caller)
        }
        configChanged.fire()
        usageQueued.fire()
        return HTTPResponse.json(body, status: 201)
    }

    /// PUT: replaces the entity named by id or name, or creates it with that id or name.
    func upsertEntity(_ request: APIRequest, _ scope: EntityScope) throws -> HTTPResponse {
        let (caller, cpID) = try self.controlPlaneScope(request, write: true)
        let key = request.parameter(scope.itemParameter)
        var input = try request.json()
        let (body, created) = try db.write { db -> (JSON, Bool) in
            if let parent = try parentID(db, request, scope, controlPlaneID: cpID), let field = scope.parent?.field {
                input[field] = ["id": .string(parent)]
            }
            let existing = try findEntity(db, controlPlaneID: cpID, kind: scope.kind, key: key)
            // PUT by name: the name in the path is the entity's name (Kong), also on a replacement.
            if !IdentifierSource.isUUID(key),
                input[scope.kind.uniqueField] == nil || input[scope.kind.uniqueField] == .null
            {
                input[scope.kind.uniqueField] = .string(key)
            }
            let validated = try GatewayEntityValidator.validate(scope.kind, input)
            if let existing {
                let id = existing.string("id") ?? ""
                return (
                    try store(
                        db, validated, id: id, createdAt: existing.int("created_at"), controlPlaneID: cpID,
                        caller: caller, replacing: true), false
                )
            }
            return (
                try store(
                    db, validated, id: IdentifierSource.isUUID(key) ? key.lowercased() : nil, createdAt: nil,
                    controlPlaneID: cpID, caller: caller), true
            )
        }
        configChanged.fire()
        usageQueued.fire()
        return HTTPResponse.json(body, status: created ? 201 : 200)
    }

    func patchEntity(_ request: APIRequest, _ scope: EntityScope) throws -> HTTPResponse {
        let (caller, cpID) = try self.controlPlaneScope(request, write: true)
        let input = try request.json()
        let body = try db.write { db -> JSON in
            let parent = try parentID(db, request, scope, controlPlaneID: cpID)
            guard
                let existing = try findEntity(
                    db, controlPlaneID: cpID, kind: scope.kind, key: request.parameter(scope.itemParameter)),
                belongs(existing, to: parent, scope)
            else { throw GeoNode.entityNotFound(scope.kind) }
            let validated = try GatewayEntityValidator.validate(
                scope.kind, input, existing: existing.json("body").objectValue, partial: true)
            return try store(
                db, validated, id: existing.string("id") ?? "", createdAt: existing.int("created_at"),
                controlPlaneID: cpID, caller: caller, replacing: true)
        }
        configChanged.fire()
        return HTTPResponse.json(body)
    }

    /// Resolves references, enforces uniqueness, writes, and produces a new configuration version.
    private func store(
        _ db: Transaction, _ entity: ValidatedEntity, id: String?, createdAt: Int64?, controlPlaneID: String,
        caller: Caller, replacing: Bool = false
    ) throws -> JSON {
        var body = entity.body
        for reference in entity.references {
            guard
                let target = try findEntity(
                    db, controlPlaneID: controlPlaneID, kind: reference.kind, key: reference.key)
            else {
                throw APIError(
                    status: 400,
                    detail:
                        "the \(reference.kind.displayName) '\(reference.key)' referenced by \(reference.field) does not exist in this control plane",
                    invalidParameters: [
                        InvalidParameter(
                            field: "\(reference.field).id", rule: "missing_reference",
                            reason: "does not exist in this control plane")
                    ])
            }
            body[reference.field] = ["id": .optional(target.string("id"))]
        }
        let entityID = try id ?? ids.next(db)
        let now = caller.now.seconds
        body["id"] = .string(entityID)
        body["created_at"] = .int(createdAt ?? now)
        body["updated_at"] = .int(now)
        if entity.kind == .plugin {
            // Kong: one plugin of a name per service/route/consumer combination.
            let scopeKey = ["service", "route", "consumer"].map { body[$0]?["id"]?.stringValue ?? "" }
            for row in try db.query(
                "SELECT id, body FROM entities WHERE cp_id = ? AND kind = 'plugin' AND id != ?", .text(controlPlaneID),
                .text(entityID))
            {
                let other = row.json("body")
                if other["name"] == body["name"],
                    ["service", "route", "consumer"].map({ other[$0]?["id"]?.stringValue ?? "" }) == scopeKey
                {
                    throw APIError(
                        status: 409,
                        detail:
                            "UNIQUE violation detected on '{consumer=\(scopeKey[2]),name=\(body["name"]?.stringValue ?? ""),route=\(scopeKey[1]),service=\(scopeKey[0])}'"
                    )
                }
            }
        }
        let unique = body[entity.kind.uniqueField]?.stringValue
        do {
            if replacing {
                try db.execute(
                    "UPDATE entities SET name = ?, body = ?, updated_at = ? WHERE id = ? AND cp_id = ?",
                    .optional(unique), .text(JSON.object(body).text),
                    .int(now), .text(entityID), .text(controlPlaneID))
            } else {
                try db.execute(
                    "INSERT INTO entities(id, cp_id, kind, name, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    .text(entityID),
                    .text(controlPlaneID), .text(entity.kind.rawValue), .optional(unique),
                    .text(JSON.object(body).text), .int(createdAt ?? now), .int(now))
                if entity.kind == .service {
                    try queueUsage(
                        db,
                        [
                            "type": "service_started", "organization_id": .string(caller.organizationID),
                            "id": .string(entityID),
                            "control_plane_id": .string(controlPlaneID), "name": .string(unique ?? entityID),
                            "at": caller.now.json,
                        ])
                }
            }
        } catch let error as DatabaseError where error.isConstraintViolation {
            if try db.query("SELECT 1 FROM entities WHERE id = ? AND cp_id = ?", .text(entityID), .text(controlPlaneID))
                .first != nil, !replacing
            {
                throw APIError(status: 409, detail: "UNIQUE violation detected on '{id=\"\(entityID)\"}'")
            }
            throw APIError(
                status: 409, detail: "UNIQUE violation detected on '{\(entity.kind.uniqueField)=\"\(unique ?? "")\"}'")
        }
        try bumpConfiguration(db, controlPlaneID: controlPlaneID, at: caller.now)
        return .object(body)
    }

    /// DELETE: 204 also when it did not exist (Kong); a service that routes still use cannot go (400).
    func deleteEntity(_ request: APIRequest, _ scope: EntityScope) throws -> HTTPResponse {
        let (caller, cpID) = try self.controlPlaneScope(request, write: true)
        let changed = try db.write { db -> Bool in
            let parent = try parentID(db, request, scope, controlPlaneID: cpID)
            guard
                let row = try findEntity(
                    db, controlPlaneID: cpID, kind: scope.kind, key: request.parameter(scope.itemParameter)),
                belongs(row, to: parent, scope), let id = row.string("id")
            else { return false }
            let all = try db.query("SELECT id, kind, body FROM entities WHERE cp_id = ?", .text(cpID))
            if scope.kind == .service {
                let routes = all.filter {
                    $0.string("kind") == "route" && $0.json("body")["service"]?["id"]?.stringValue == id
                }
                if !routes.isEmpty {
                    throw APIError(
                        status: 400,
                        detail:
                            "an existing 'routes' entity references this 'services' entity (\(routes.count) route\(routes.count == 1 ? "" : "s")); delete them first"
                    )
                }
                try queueUsage(
                    db,
                    [
                        "type": "service_ended", "organization_id": .string(caller.organizationID), "id": .string(id),
                        "control_plane_id": .string(cpID),
                        "at": caller.now.json,
                    ])
            }
            // Plugins scoped to the entity go with it, as in Kong.
            if scope.kind != .plugin {
                for plugin in all
                where plugin.string("kind") == "plugin"
                    && plugin.json("body")[scope.kind.rawValue]?["id"]?.stringValue == id
                {
                    try db.execute(
                        "DELETE FROM entities WHERE id = ? AND cp_id = ?", .text(plugin.string("id") ?? ""), .text(cpID)
                    )
                }
            }
            try db.execute("DELETE FROM entities WHERE id = ? AND cp_id = ?", .text(id), .text(cpID))
            try bumpConfiguration(db, controlPlaneID: cpID, at: caller.now)
            return true
        }
        if changed {
            configChanged.fire()
            usageQueued.fire()
        }
        return .noContent
    }
}
