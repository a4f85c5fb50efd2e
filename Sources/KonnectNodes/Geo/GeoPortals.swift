import KonnectCore
import KonnectHTTP
import KonnectStorage

/// Dev Portals (`/v2/portals`): geo-specific, and counted for usage while published (B3).
extension GeoNode {
    var portalRoutes: [Router.Route] {
        [
            Router.route("GET", "/v2/portals") { request in
                let caller = try self.caller(request)
                try self.requirePortalAccess(caller, write: false)
                let page = try PageRequest(request, defaultSize: 10, maxSize: 100)
                let rows = try self.db.read { db in
                    try db.query(
                        "SELECT * FROM portals WHERE org_id = ? ORDER BY created_at, id", .text(caller.organizationID))
                }
                return page.response(rows.map(self.portalJSON))
            },
            Router.route("POST", "/v2/portals", createPortal),
            Router.route("GET", "/v2/portals/{portalId}") { request in
                let caller = try self.caller(request)
                try self.requirePortalAccess(caller, write: false)
                return HTTPResponse.json(self.portalJSON(try self.portal(caller, request.parameter("portalId"))))
            },
            Router.route("PATCH", "/v2/portals/{portalId}", updatePortal),
            Router.route("DELETE", "/v2/portals/{portalId}") { request in
                let caller = try self.caller(request)
                try self.requirePortalAccess(caller, write: true)
                let existing = try self.portal(caller, request.parameter("portalId"))
                try self.db.write { db in
                    let row = try db.single(
                        "SELECT * FROM portals WHERE id = ? AND org_id = ?", .text(existing.string("id") ?? ""),
                        .text(caller.organizationID),
                        missing: APIError.notFound("The requested portal was not found."))
                    if row.bool("published") { try self.queuePortalUsage(db, row, published: false, caller: caller) }
                    try db.execute("DELETE FROM portals WHERE id = ?", .text(row.string("id") ?? ""))
                }
                self.usageQueued.fire()
                return .noContent
            },
        ]
    }

    private func requirePortalAccess(_ caller: Caller, write: Bool) throws(APIError) {
        let allowed =
            write ? caller.permissions.canWritePortals(geo: name) : caller.permissions.canReadPortals(geo: name)
        guard allowed else {
            throw APIError(
                status: 403, title: "Permission denied",
                detail: "Your roles do not allow \(write ? "changing" : "reading") Dev Portals in geo \(name)")
        }
    }

    func portal(_ caller: Caller, _ id: String) throws -> Row {
        try requireUUID(id, "portalId")
        let row = try db.read { db in
            try db.query("SELECT * FROM portals WHERE id = ? AND org_id = ?", .text(id), .text(caller.organizationID))
                .first
        }
        guard let row else { throw APIError.notFound("The requested portal was not found.") }
        return row
    }

    func portalJSON(_ row: Row) -> JSON {
        [
            "id": .optional(row.string("id")), "name": .optional(row.string("name")),
            "description": .string(row.string("description") ?? ""), "published": .bool(row.bool("published")),
            "geo": .string(name),
            "created_at": SimTime.from(row.int("created_at"))?.json ?? .null,
            "updated_at": SimTime.from(row.int("updated_at"))?.json ?? .null,
        ]
    }

    private func queuePortalUsage(_ db: Transaction, _ row: Row, published: Bool, caller: Caller) throws {
        try queueUsage(
            db,
            [
                "type": .string(published ? "portal_published" : "portal_unpublished"),
                "organization_id": .optional(row.string("org_id")),
                "id": .optional(row.string("id")), "name": .optional(row.string("name")), "at": caller.now.json,
            ])
    }

    func createPortal(_ request: APIRequest) throws -> HTTPResponse {
        let caller = try self.caller(request)
        try requirePortalAccess(caller, write: true)
        var reader = try ObjectReader(request.json())
        let portalName = reader.string("name", required: true, nullable: false, minLength: 1, maxLength: 255)
        let description = reader.string("description", nullable: false, maxLength: 2048)
        let published = reader.bool("published", nullable: false) ?? true
        try reader.finish()
        let now = caller.now
        let row = try db.write { db -> Row in
            let id = try ids.next(db)
            do {
                try db.execute(
                    "INSERT INTO portals(id, org_id, name, description, published, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    .text(id),
                    .text(caller.organizationID), .text(portalName ?? ""), .text(description ?? ""), .bool(published),
                    .time(now), .time(now))
            } catch let error as DatabaseError where error.isConstraintViolation {
                throw APIError.conflict(
                    "A portal named \(portalName ?? "") already exists in this organization and geo")
            }
            let row = try db.single(
                "SELECT * FROM portals WHERE id = ?", .text(id),
                missing: APIError.notFound("The requested portal was not found."))
            if published { try queuePortalUsage(db, row, published: true, caller: caller) }
            return row
        }
        usageQueued.fire()
        return HTTPResponse.json(portalJSON(row), status: 201)
    }

    func updatePortal(_ request: APIRequest) throws -> HTTPResponse {
        let caller = try self.caller(request)
        try requirePortalAccess(caller, write: true)
        let existing = try portal(caller, request.parameter("portalId"))
        let id = existing.string("id") ?? ""
        var reader = try ObjectReader(request.json())
        let portalName = reader.string("name", nullable: false, minLength: 1, maxLength: 255)
        let description = reader.string("description", nullable: false, maxLength: 2048)
        let published = reader.bool("published", nullable: false)
        try reader.finish()
        let now = caller.now
        let row = try db.write { db -> Row in
            // Re-read inside the transaction: a concurrent DELETE may have won.
            let current = try db.single(
                "SELECT * FROM portals WHERE id = ? AND org_id = ?", .text(id), .text(caller.organizationID),
                missing: APIError.notFound("The requested portal was not found."))
            do {
                if let portalName {
                    try db.execute("UPDATE portals SET name = ? WHERE id = ?", .text(portalName), .text(id))
                }
            } catch let error as DatabaseError where error.isConstraintViolation {
                throw APIError.conflict(
                    "A portal named \(portalName ?? "") already exists in this organization and geo")
            }
            if let description {
                try db.execute("UPDATE portals SET description = ? WHERE id = ?", .text(description), .text(id))
            }
            if let published, published != current.bool("published") {
                try db.execute("UPDATE portals SET published = ? WHERE id = ?", .bool(published), .text(id))
                try queuePortalUsage(db, current, published: published, caller: caller)
            }
            try db.execute("UPDATE portals SET updated_at = ? WHERE id = ?", .time(now), .text(id))
            return try db.single(
                "SELECT * FROM portals WHERE id = ?", .text(id),
                missing: APIError.notFound("The requested portal was not found."))
        }
        usageQueued.fire()
        return HTTPResponse.json(portalJSON(row))
    }
}
