import KonnectCore
import KonnectHTTP
import KonnectSecurity

/// The operator's endpoints on the geo's Unix socket, which the CLI uses: credentials for `dp start`
/// and `zone start`, decommissioning one control plane, and the geo's status.
struct OperatorRoutes: Sendable {
    let geo: String
    let database: GeoDatabase
    let calendar: GeoCalendar
    let controlPlanes: ControlPlaneStore
    let credentials: DataPlaneCredentialStore
    let meshControlPlanes: MeshControlPlaneStore
    let zoneTokens: ZoneTokenStore
    let meta: GeoMetaStore
    let usage: UsageOutboxStore
    let decommissions: DecommissionStore
    /// What the push streams sent, and how many configurations were built (`bench sync` reads both).
    let pushed: PushCounters
    let builds: [ConfigurationBuilds]

    var dataPlaneRoutes: [Router.Route] {
        [
            Router.route("POST", "/internal/v1/operator/dp-credentials", unixOnly: true, dataPlaneCredential),
            Router.route("POST", "/internal/v1/operator/control-planes/{controlPlaneId}/decommission", unixOnly: true) {
                request in
                try setDecommissioned(request, reason: "decommissioned by the operator")
            },
            Router.route("POST", "/internal/v1/operator/control-planes/{controlPlaneId}/recommission", unixOnly: true) {
                request in
                try setDecommissioned(request, reason: nil)
            },
            Router.route("GET", "/internal/v1/status", unixOnly: true) { _ in
                HTTPResponse.json([
                    "geo": .string(geo), "pending_usage_records": .int(try usage.count()),
                    "events_cursor": .int(try meta.eventCursor()),
                    "decommissioned_organizations": .strings(try decommissions.organizations()),
                    "push": pushed.json,
                    "configuration_builds": .int(builds.reduce(0) { $0 + $1.made.load(ordering: .relaxed) }),
                ])
            },
        ]
    }

    var zoneRoutes: [Router.Route] {
        [Router.route("POST", "/internal/v1/operator/zone-tokens", unixOnly: true, zoneToken)]
    }

    /// The one object named `key` (id or name), in the given organization or any; ambiguity is a 409
    /// naming the organizations.
    private func single<Object>(
        _ found: [Object], key: String, organization: String?, kind: String, organizationOf: (Object) -> String
    ) throws -> Object {
        let matching = found.filter { organization == nil || organizationOf($0) == organization }
        guard let first = matching.first else {
            throw APIError.notFound("No \(kind) named or with id '\(key)' in geo \(geo)")
        }
        guard matching.count == 1 else {
            throw APIError.conflict(
                "Several organizations have a \(kind) named '\(key)' in geo \(geo); pass --org with one of \(matching.map(organizationOf).joined(separator: ", "))"
            )
        }
        return first
    }

    private static func answer(credential: String, id: String, name: String, organization: String) -> HTTPResponse {
        HTTPResponse.json(
            [
                "credential": .string(credential), "control_plane_id": .string(id),
                "control_plane_name": .string(name), "organization_id": .string(organization),
            ], status: 201)
    }

    func dataPlaneCredential(_ request: APIRequest) throws -> HTTPResponse {
        var reader = try ObjectReader(request.json())
        let key = reader.string("control_plane", required: true, nullable: false, maxLength: 256)
        let organization = reader.string("organization_id", maxLength: 64)
        let cert = reader.string("cert", nullable: false, maxLength: 16384)
        try reader.finish()
        guard let key else { throw APIError.badRequest("Invalid request") }
        let controlPlane = try single(
            try controlPlanes.named(key), key: key, organization: organization, kind: "control plane",
            organizationOf: \.organizationID)
        // A certificate is pinned (its fingerprint is the credential); without one a secret is issued.
        let secret = try cert.map { try PinnedCertificate.fingerprint($0) } ?? Secrets.token(prefix: "kdp_")
        try database.write { work in
            _ = try credentials.issue(
                secret: secret, cert: cert, title: "konnect-sim dp start", controlPlane: controlPlane.id,
                at: calendar.now, in: work)
        }
        return OperatorRoutes.answer(
            credential: secret, id: controlPlane.id, name: controlPlane.name, organization: controlPlane.organizationID)
    }

    func zoneToken(_ request: APIRequest) throws -> HTTPResponse {
        var reader = try ObjectReader(request.json())
        let key = reader.string("mesh_control_plane", required: true, nullable: false, maxLength: 256)
        let organization = reader.string("organization_id", maxLength: 64)
        let zone = reader.string("zone", required: true, nullable: false, maxLength: 64)
        try reader.finish()
        guard let key, let zone else { throw APIError.badRequest("Invalid request") }
        let meshControlPlane = try single(
            try meshControlPlanes.named(key), key: key, organization: organization, kind: "Mesh global control plane",
            organizationOf: \.organizationID)
        let token = Secrets.token(prefix: "spat_")
        try database.write { work in
            try zoneTokens.issue(
                token, for: ZoneGrant(meshControlPlaneID: meshControlPlane.id, zone: zone), at: calendar.now,
                in: work)
        }
        return OperatorRoutes.answer(
            credential: token, id: meshControlPlane.id, name: meshControlPlane.name,
            organization: meshControlPlane.organizationID)
    }

    /// Decommissions (or recommissions) one control plane, as organization deactivation does for all of
    /// them: its data planes keep running on their last configuration and stop proxying (D5).
    func setDecommissioned(_ request: APIRequest, reason: String?) throws -> HTTPResponse {
        let id = request.parameter("controlPlaneId")
        let changed = try database.write { work in try controlPlanes.setDecommissioned(id, reason: reason, in: work) }
        guard changed else { throw ControlPlaneStore.notFound() }
        Log.info("control plane \(id) \(reason == nil ? "recommissioned" : "decommissioned") by the operator")
        return HTTPResponse.json(["id": .string(id), "decommissioned": .bool(reason != nil)])
    }
}
