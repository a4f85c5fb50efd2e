import KonnectCore
import KonnectHTTP

extension GeoNode {
    var meshRoutes: [Router.Route] { [] }
    func issueZoneToken(meshControlPlaneID: String, zone: String, at moment: SimTime) throws -> String {
        throw APIError.notFound("Mesh is not available yet")
    }
}
