import KonnectCore
import KonnectStorage

/// A Dev Portal of an organization in this geo; counted for usage while published (B3).
struct Portal: Sendable {
    var id: String
    var organizationID: String
    var name: String
    var description: String
    var published: Bool
    var createdAt: SimTime
    var updatedAt: SimTime
}

/// `portals`: Dev Portals, scoped by organization (T3).
struct PortalStore: Sendable {
    let database: GeoDatabase

    static func notFound() -> APIError { APIError.notFound("The requested portal was not found.") }

    static func nameTaken(_ name: String) -> APIError {
        APIError.conflict("A portal named \(name) already exists in this organization and geo")
    }

    func find(_ id: String, organization: String, in context: (any GeoReading)? = nil) throws -> Portal? {
        try database.reading(context) { db in
            try db.query("SELECT * FROM portals WHERE id = ? AND org_id = ?", .text(id), .text(organization)).first
                .map(PortalStore.portal)
        }
    }

    func list(organization: String, in context: (any GeoReading)? = nil) throws -> [Portal] {
        try database.reading(context) { db in
            try db.query("SELECT * FROM portals WHERE org_id = ? ORDER BY created_at, id", .text(organization))
                .map(PortalStore.portal)
        }
    }

    func create(
        name: String, description: String, published: Bool, organization: String, at moment: SimTime,
        in work: GeoWork
    ) throws -> Portal {
        let portal = Portal(
            id: try database.newID(work), organizationID: organization, name: name, description: description,
            published: published, createdAt: moment, updatedAt: moment)
        try unique(or: PortalStore.nameTaken(name)) {
            try work.transaction.execute(
                "INSERT INTO portals(id, org_id, name, description, published, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                .text(portal.id), .text(organization), .text(name), .text(description), .bool(published),
                .time(moment), .time(moment))
        }
        return portal
    }

    /// Changes the given fields of a portal read in the same write; 409 when the new name is taken.
    func update(
        _ portal: Portal, name: String?, description: String?, published: Bool?, at moment: SimTime, in work: GeoWork
    ) throws -> Portal {
        let db = work.transaction
        var updated = portal
        if let name {
            try unique(or: PortalStore.nameTaken(name)) {
                try db.execute("UPDATE portals SET name = ? WHERE id = ?", .text(name), .text(portal.id))
            }
            updated.name = name
        }
        if let description {
            try db.execute("UPDATE portals SET description = ? WHERE id = ?", .text(description), .text(portal.id))
            updated.description = description
        }
        if let published {
            try db.execute("UPDATE portals SET published = ? WHERE id = ?", .bool(published), .text(portal.id))
            updated.published = published
        }
        try db.execute("UPDATE portals SET updated_at = ? WHERE id = ?", .time(moment), .text(portal.id))
        updated.updatedAt = moment
        return updated
    }

    func delete(_ id: String, in work: GeoWork) throws {
        try work.transaction.execute("DELETE FROM portals WHERE id = ?", .text(id))
    }

    func deleteAll(organization: String, in work: GeoWork) throws {
        try work.transaction.execute("DELETE FROM portals WHERE org_id = ?", .text(organization))
    }

    private static func portal(_ row: Row) throws -> Portal {
        Portal(
            id: try row.text("id"), organizationID: try row.text("org_id"), name: try row.text("name"),
            description: try row.text("description"), published: row.bool("published"),
            createdAt: try row.moment("created_at"), updatedAt: try row.moment("updated_at"))
    }
}
