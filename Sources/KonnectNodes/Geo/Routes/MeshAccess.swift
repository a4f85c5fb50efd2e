import KonnectCore
import KonnectHTTP

/// The scope check of every route under `/v0/mesh/control-planes/{meshControlPlaneId}`: the caller, and
/// the Mesh control plane of the caller's organization in this geo (404 for anything else, T3; 403
/// when the caller's roles do not reach it here).
struct MeshAccess: Sendable {
    let geo: String
    let authenticator: Authenticator
    let meshControlPlanes: MeshControlPlaneStore

    func meshControlPlane(_ caller: Caller, _ id: String, write: Bool) throws -> MeshControlPlane {
        try requireUUID(id, "meshControlPlaneId")
        guard let found = try meshControlPlanes.find(id, organization: caller.organizationID) else {
            throw MeshControlPlaneStore.notFound()
        }
        let allowed =
            write ? caller.permissions.canWriteMesh(id, geo: geo) : caller.permissions.canReadMesh(id, geo: geo)
        guard allowed else {
            throw permissionDenied(
                "Your roles do not allow \(write ? "changing" : "reading") this Mesh control plane in geo \(geo)")
        }
        return found
    }

    func scope(_ request: APIRequest, write: Bool) throws -> (caller: Caller, meshControlPlane: MeshControlPlane) {
        let caller = try authenticator.caller(request)
        return (caller, try meshControlPlane(caller, request.parameter("meshControlPlaneId"), write: write))
    }

    /// Zone, mesh and policy names: Kuma's lower-case names.
    static func nameProblem(_ name: String) -> String? {
        name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
            ? nil : "must use lower-case letters, digits and '-'"
    }
}
