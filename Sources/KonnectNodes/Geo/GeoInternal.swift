import KonnectCore
import KonnectHTTP
import KonnectStorage

/// The geo's node-to-node API, on its Unix socket only: data-plane sync, pings and usage, and the
/// operator's endpoints the CLI uses (credentials for `dp start`, decommissioning one control plane).
extension GeoNode {
    var internalRoutes: [Router.Route] {
        [
            Router.route("GET", "/internal/v1/dp/sync", unixOnly: true, syncStream),
            Router.route("POST", "/internal/v1/dp/ping", unixOnly: true, ping),
            Router.route("POST", "/internal/v1/dp/usage", unixOnly: true, dataPlaneUsage),
            Router.route("POST", "/internal/v1/operator/dp-credentials", unixOnly: true) { request in
                try self.operatorCredential(request, mesh: false)
            },
            Router.route("POST", "/internal/v1/operator/control-planes/{controlPlaneId}/decommission", unixOnly: true) {
                request in
                try self.setDecommissioned(request, reason: "decommissioned by the operator")
            },
            Router.route("POST", "/internal/v1/operator/control-planes/{controlPlaneId}/recommission", unixOnly: true) {
                request in
                try self.setDecommissioned(request, reason: nil)
            },
            Router.route("GET", "/internal/v1/status", unixOnly: true) { _ in
                let (pending, cursor, decommissioned) = try self.db.read { db in
                    (
                        try db.query("SELECT COUNT(*) AS n FROM usage_outbox").first?.int("n") ?? 0,
                        try db.query("SELECT value FROM meta WHERE key = 'events_cursor'").first?.int("value") ?? 0,
                        try db.query("SELECT org_id FROM decommissioned_orgs").compactMap { $0.string("org_id") }
                    )
                }
                return HTTPResponse.json([
                    "geo": .string(self.name), "pending_usage_records": .int(pending), "events_cursor": .int(cursor),
                    "decommissioned_organizations": .strings(decommissioned),
                ])
            },
        ]
    }

    /// Finds a control plane (or Mesh global control plane) by id or name across organizations, for the
    /// operator; ambiguity is an error naming the organizations.
    func operatorLookup(_ key: String, organizationID: String?, mesh: Bool) throws -> Row {
        let table = mesh ? "mesh_control_planes" : "control_planes"
        let rows = try db.read { db in
            try db.query(
                "SELECT * FROM \(table) WHERE (id = ? OR name = ?) ORDER BY created_at", .text(key), .text(key))
        }.filter { organizationID == nil || $0.string("org_id") == organizationID }
        guard let first = rows.first else {
            throw APIError.notFound(
                "No \(mesh ? "Mesh global control plane" : "control plane") named or with id '\(key)' in geo \(name)")
        }
        guard rows.count == 1 else {
            throw APIError.conflict(
                "Several organizations have a \(mesh ? "Mesh global control plane" : "control plane") named '\(key)' in geo \(name); pass --org with one of \(rows.compactMap { $0.string("org_id") }.joined(separator: ", "))"
            )
        }
        return first
    }

    func operatorCredential(_ request: APIRequest, mesh: Bool) throws -> HTTPResponse {
        var reader = try ObjectReader(request.json())
        let key = reader.string(
            mesh ? "mesh_control_plane" : "control_plane", required: true, nullable: false, maxLength: 256)
        let organization = reader.string("organization_id", maxLength: 64)
        let zone = mesh ? reader.string("zone", required: true, nullable: false, maxLength: 64) : nil
        try reader.finish()
        let row = try operatorLookup(key ?? "", organizationID: organization, mesh: mesh)
        let id = row.string("id") ?? ""
        let now = lastKnownNow.withLock { $0 }
        let secret: String
        if mesh {
            secret = try issueZoneToken(meshControlPlaneID: id, zone: zone ?? "", at: now)
        } else {
            secret = try issueCredential(controlPlaneID: id, cert: nil, title: "konnect-sim dp start", at: now).1
        }
        return HTTPResponse.json(
            [
                "credential": .string(secret), "control_plane_id": .string(id),
                "control_plane_name": .optional(row.string("name")),
                "organization_id": .optional(row.string("org_id")),
            ], status: 201)
    }

    /// Decommissions (or recommissions) one control plane, as organization deactivation will for all of
    /// them: its data planes keep running on their last configuration and stop proxying (D5).
    func setDecommissioned(_ request: APIRequest, reason: String?) throws -> HTTPResponse {
        let id = request.parameter("controlPlaneId")
        let changed = try db.write { db in
            try db.execute("UPDATE control_planes SET decommissioned = ? WHERE id = ?", .optional(reason), .text(id))
        }
        guard changed == 1 else { throw GeoNode.controlPlaneNotFound() }
        configChanged.fire()
        Log.info("control plane \(id) \(reason == nil ? "recommissioned" : "decommissioned") by the operator")
        return HTTPResponse.json(["id": .string(id), "decommissioned": .bool(reason != nil)])
    }
}
