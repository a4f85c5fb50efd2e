import KonnectCore
import KonnectHTTP

/// The operator's view of what this geo holds for each organization, for the console's geo isolation
/// panel (issue 16), on the Unix socket only: per organization asked, what a token of it gets from this
/// geo's lists (the organization-scoped store queries the public routes use, T3): control planes with
/// their configuration version and hash, gateway entities, Dev Portals, Mesh control planes, data-plane
/// nodes and zones.
struct OrganizationObjectsRoutes: Sendable {
    let geo: String
    let controlPlanes: ControlPlaneStore
    let entities: GatewayEntityStore
    let portals: PortalStore
    let meshControlPlanes: MeshControlPlaneStore
    let nodes: DataPlaneNodeStore
    let zones: ZoneStore
    /// Where each control plane's version and hash come from (built when asked, issue 12).
    let builds: ConfigurationBuilds

    var routes: [Router.Route] {
        [Router.route("GET", "/internal/v1/operator/organization-objects", unixOnly: true, objects)]
    }

    /// `?organization=ID&organization=ID2...`: one entry per organization, in the order asked.
    func objects(_ request: APIRequest) throws -> HTTPResponse {
        let asked = request.http.query.filter { $0.name == "organization" }.map(\.value)
        guard !asked.isEmpty, asked.count <= OrganizationObjectsReport.maximumOrganizations else {
            throw APIError.invalid(
                field: "organization", rule: "invalid",
                reason:
                    "name 1 to \(OrganizationObjectsReport.maximumOrganizations) organizations, as ?organization=ID&organization=ID2, got \(asked.count)"
            )
        }
        if let bad = asked.first(where: { !IdentifierSource.isUUID($0) }) {
            throw APIError.invalid(
                field: "organization", rule: "is_uuid", reason: "must be an organization id, got \"\(bad.prefix(64))\"")
        }
        let report = OrganizationObjectsReport(geo: geo, organizations: try asked.map(objects(of:)))
        return HTTPResponse.json(report.json)
    }

    func objects(of organization: String) throws -> OrganizationObjects {
        let planes = try controlPlanes.list(organization: organization)
        let meshes = try meshControlPlanes.list(organization: organization)
        return OrganizationObjects(
            organizationID: organization,
            controlPlanes: try planes.compactMap { plane in
                // A control plane deleted since it was listed is left out.
                try builds.latest(plane.id).map {
                    .init(id: plane.id, name: plane.name, configVersion: $0.version, configHash: $0.hash)
                }
            },
            entities: try planes.reduce(0) { $0 + (try entities.count(controlPlane: $1.id)) },
            portals: try portals.list(organization: organization).count, meshControlPlanes: meshes.count,
            dataPlanes: try planes.reduce(0) { $0 + (try nodes.list(controlPlane: $1.id).count) },
            zones: try meshes.reduce(0) { $0 + (try zones.list(meshControlPlane: $1.id).count) })
    }
}
