import KonnectCore
import KonnectHTTP

/// Dev Portals (`/v2/portals`): geo-specific, and counted for usage while published (B3).
struct PortalRoutes: Sendable {
    let geo: String
    let authenticator: Authenticator
    let database: GeoDatabase
    let portals: PortalStore
    let usage: UsageOutboxStore

    var routes: [Router.Route] {
        [
            Router.route("GET", "/v2/portals") { request in
                let caller = try authorized(request, write: false)
                let page = try PageRequest(request, defaultSize: 10, maxSize: 100)
                return page.response(try portals.list(organization: caller.organizationID).map(json))
            },
            Router.route("POST", "/v2/portals", create),
            Router.route("GET", "/v2/portals/{portalId}") { request in
                let caller = try authorized(request, write: false)
                return HTTPResponse.json(json(try portal(caller, request.parameter("portalId"))))
            },
            Router.route("PATCH", "/v2/portals/{portalId}", update),
            Router.route("DELETE", "/v2/portals/{portalId}") { request in
                let caller = try authorized(request, write: true)
                let id = try portal(caller, request.parameter("portalId")).id
                try database.write { work in
                    // Re-read inside the transaction: a concurrent DELETE may have won.
                    guard let current = try portals.find(id, organization: caller.organizationID, in: work) else {
                        throw PortalStore.notFound()
                    }
                    if current.published { try queueUsage(current, published: false, caller: caller, in: work) }
                    try portals.delete(id, in: work)
                }
                return .noContent
            },
        ]
    }

    /// The caller, when their roles reach Dev Portals in this geo (403 otherwise).
    private func authorized(_ request: APIRequest, write: Bool) throws -> Caller {
        let caller = try authenticator.caller(request)
        let allowed =
            write ? caller.permissions.canWritePortals(geo: geo) : caller.permissions.canReadPortals(geo: geo)
        guard allowed else {
            throw permissionDenied(
                "Your roles do not allow \(write ? "changing" : "reading") Dev Portals in geo \(geo)")
        }
        return caller
    }

    /// A portal of the caller's organization in this geo; 404 for anything else (T3).
    private func portal(_ caller: Caller, _ id: String) throws -> Portal {
        try requireUUID(id, "portalId")
        guard let found = try portals.find(id, organization: caller.organizationID) else {
            throw PortalStore.notFound()
        }
        return found
    }

    func json(_ portal: Portal) -> JSON {
        [
            "id": .string(portal.id), "name": .string(portal.name), "description": .string(portal.description),
            "published": .bool(portal.published), "geo": .string(geo), "created_at": portal.createdAt.json,
            "updated_at": portal.updatedAt.json,
        ]
    }

    /// A portal starts or stops counting for usage when it is published or unpublished (B3).
    private func queueUsage(_ portal: Portal, published: Bool, caller: Caller, in work: GeoWork) throws {
        let record: UsageRecord =
            published
            ? .portalPublished(
                organizationID: portal.organizationID, portalID: portal.id, name: portal.name, at: caller.now)
            : .portalUnpublished(organizationID: portal.organizationID, portalID: portal.id, at: caller.now)
        try usage.queue(record, in: work)
    }

    func create(_ request: APIRequest) throws -> HTTPResponse {
        let caller = try authorized(request, write: true)
        var reader = try ObjectReader(request.json())
        let name = reader.string("name", required: true, nullable: false, minLength: 1, maxLength: 255)
        let description = reader.string("description", nullable: false, maxLength: 2048)
        let published = reader.bool("published", nullable: false) ?? true
        try reader.finish()
        guard let name else { throw APIError.badRequest("Invalid request") }
        let created = try database.write { work -> Portal in
            let portal = try portals.create(
                name: name, description: description ?? "", published: published,
                organization: caller.organizationID, at: caller.now, in: work)
            if published { try queueUsage(portal, published: true, caller: caller, in: work) }
            return portal
        }
        return HTTPResponse.json(json(created), status: 201)
    }

    func update(_ request: APIRequest) throws -> HTTPResponse {
        let caller = try authorized(request, write: true)
        let id = try portal(caller, request.parameter("portalId")).id
        var reader = try ObjectReader(request.json())
        let name = reader.string("name", nullable: false, minLength: 1, maxLength: 255)
        let description = reader.string("description", nullable: false, maxLength: 2048)
        let published = reader.bool("published", nullable: false)
        try reader.finish()
        let updated = try database.write { work -> Portal in
            // Re-read inside the transaction: a concurrent DELETE may have won.
            guard let current = try portals.find(id, organization: caller.organizationID, in: work) else {
                throw PortalStore.notFound()
            }
            let publishing = published.flatMap { $0 != current.published ? $0 : nil }
            let updated = try portals.update(
                current, name: name, description: description, published: publishing, at: caller.now, in: work)
            if let publishing { try queueUsage(current, published: publishing, caller: caller, in: work) }
            return updated
        }
        return HTTPResponse.json(json(updated))
    }
}
