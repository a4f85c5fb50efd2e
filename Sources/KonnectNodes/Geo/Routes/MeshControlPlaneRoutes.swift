import KonnectCore
import KonnectHTTP
import KonnectSecurity

/// Kong Mesh global control planes (D3, D5): `/v0/mesh/control-planes`, their zone tokens and the
/// zones that connected to them.
struct MeshControlPlaneRoutes: Sendable {
    let geo: String
    let access: MeshAccess
    let database: GeoDatabase
    let meshControlPlanes: MeshControlPlaneStore
    let zoneTokens: ZoneTokenStore
    let zones: ZoneStore

    var routes: [Router.Route] {
        let base = "/v0/mesh/control-planes"
        let item = base + "/{meshControlPlaneId}"
        return [
            Router.route("GET", base) { request in
                let caller = try access.authenticator.caller(request)
                let page = try PageRequest(request, defaultSize: 10, maxSize: 100)
                let found = try meshControlPlanes.list(organization: caller.organizationID).filter {
                    caller.permissions.canReadMesh($0.id, geo: geo)
                }
                return page.response(found.map(json))
            },
            Router.route("POST", base, create),
            Router.route("GET", item) { request in
                HTTPResponse.json(json(try access.scope(request, write: false).meshControlPlane))
            },
            Router.route("PATCH", item, update),
            Router.route("DELETE", item) { request in
                let meshControlPlane = try access.scope(request, write: true).meshControlPlane
                try database.write { work in try meshControlPlanes.remove(meshControlPlane.id, in: work) }
                return .noContent
            },
        ]
    }

    /// Zone tokens and the zone list, after the mesh resources in the route table.
    var zoneRoutes: [Router.Route] {
        let item = "/v0/mesh/control-planes/{meshControlPlaneId}"
        return [
            Router.route("POST", item + "/api/tokens/zone") { request in
                let (caller, meshControlPlane) = try access.scope(request, write: true)
                var reader = try ObjectReader(request.json())
                let zone = reader.string(
                    "zone", required: true, nullable: false, minLength: 1, maxLength: 64,
                    validate: MeshAccess.nameProblem)
                try reader.finish()
                guard let zone else { throw APIError.badRequest("Invalid request") }
                let token = try issueZoneToken(
                    ZoneGrant(meshControlPlaneID: meshControlPlane.id, zone: zone), at: caller.now)
                return HTTPResponse.json(["token": .string(token), "zone": .string(zone)], status: 201)
            },
            Router.route("GET", item + "/api/zones") { request in
                let meshControlPlane = try access.scope(request, write: false).meshControlPlane
                let found = try zones.list(meshControlPlane: meshControlPlane.id)
                return HTTPResponse.json([
                    "total": .int(found.count), "items": .array(found.map(MeshControlPlaneRoutes.json)), "next": .null,
                ])
            },
            Router.route("GET", item + "/api/zones/{zone}") { request in
                let meshControlPlane = try access.scope(request, write: false).meshControlPlane
                let name = request.parameter("zone")
                guard let zone = try zones.find(name, meshControlPlane: meshControlPlane.id) else {
                    throw APIError.notFound("No zone \(name) has connected to this control plane")
                }
                return HTTPResponse.json(MeshControlPlaneRoutes.json(zone))
            },
        ]
    }

    /// A zone token (`spat_...`) for one zone of one Mesh global control plane.
    func issueZoneToken(_ grant: ZoneGrant, at moment: SimTime) throws -> String {
        let token = Secrets.token(prefix: "spat_")
        try database.write { work in try zoneTokens.issue(token, for: grant, at: moment, in: work) }
        return token
    }

    func json(_ meshControlPlane: MeshControlPlane) -> JSON {
        [
            "id": .string(meshControlPlane.id), "name": .string(meshControlPlane.name),
            "description": .string(meshControlPlane.description), "labels": meshControlPlane.labels, "features": [],
            "geo": .string(geo), "created_at": meshControlPlane.createdAt.json,
            "updated_at": meshControlPlane.updatedAt.json,
        ]
    }

    static func json(_ zone: ZoneRecord) -> JSON {
        [
            "name": .string(zone.name), "enabled": true, "state": .string(zone.isOnline ? "online" : "offline"),
            "workloads": .int(zone.workloads), "config_hash": .string(zone.configHash),
            "zoneInsight": [
                "subscriptions": [
                    [
                        "connectTime": zone.connectedAt.map { .string(SimTime(seconds: $0).iso8601) } ?? .null,
                        "disconnectTime": zone.disconnectedAt.map { .string(SimTime(seconds: $0).iso8601) } ?? .null,
                    ]
                ],
                "version": ["kumaCp": ["version": .string(zone.version)]],
            ],
        ]
    }

    func create(_ request: APIRequest) throws -> HTTPResponse {
        let caller = try access.authenticator.caller(request)
        guard caller.permissions.canWriteMesh(nil, geo: geo) else {
            throw permissionDenied("Your roles do not allow creating Mesh control planes in geo \(geo)")
        }
        var reader = try ObjectReader(request.json())
        let name = reader.string("name", required: true, nullable: false, minLength: 1, maxLength: 100)
        let description = reader.string("description", nullable: false, maxLength: 2048)
        var labels: JSON = [:]
        if let object = reader.object("labels", nullable: false) {
            if let problem = Labels.problem(object, maxCount: 50) {
                reader.fail("labels", "is_label", problem)
            } else {
                labels = .object(object)
            }
        }
        try reader.finish()
        guard let name else { throw APIError.badRequest("Invalid request") }
        let created = try database.write { work in
            try meshControlPlanes.create(
                name: name, description: description ?? "", labels: labels, organization: caller.organizationID,
                at: caller.now, in: work)
        }
        return HTTPResponse.json(json(created), status: 201)
    }

    func update(_ request: APIRequest) throws -> HTTPResponse {
        let (caller, meshControlPlane) = try access.scope(request, write: true)
        var reader = try ObjectReader(request.json())
        let name = reader.string("name", nullable: false, minLength: 1, maxLength: 100)
        let description = reader.string("description", nullable: false, maxLength: 2048)
        let labels = reader.object("labels", nullable: false)
        if let labels, let problem = Labels.problem(labels, maxCount: 50) { reader.fail("labels", "is_label", problem) }
        try reader.finish()
        let updated = try database.write { work in
            try meshControlPlanes.update(
                meshControlPlane.id, organization: caller.organizationID, name: name, description: description,
                labels: labels, at: caller.now, in: work)
        }
        return HTTPResponse.json(json(updated))
    }
}
