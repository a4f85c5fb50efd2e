import KonnectCore
import KonnectHTTP

/// Checks a path id or header is a UUID before any lookup (400 naming it otherwise).
func requireUUID(_ value: String, _ field: String) throws(APIError) {
    guard IdentifierSource.isUUID(value) else {
        throw APIError.invalid(field: field, rule: "is_uuid", reason: "must be a UUID, got \"\(value.prefix(64))\"")
    }
}

/// The 403 of a caller whose roles do not reach something in this geo.
func permissionDenied(_ detail: String) -> APIError {
    APIError(status: 403, title: "Permission denied", detail: detail)
}

/// The one scope check of every route under `/v2/control-planes/{controlPlaneId}`: the caller, and
/// the control plane of the caller's organization in this geo (404 for anything else, T3; 403 when
/// the caller's roles do not reach it here, A4).
struct ControlPlaneAccess: Sendable {
    let geo: String
    let authenticator: Authenticator
    let controlPlanes: ControlPlaneStore

    func controlPlane(_ caller: Caller, _ id: String, write: Bool) throws -> ControlPlane {
        try requireUUID(id, "controlPlaneId")
        guard let found = try controlPlanes.find(id, organization: caller.organizationID) else {
            throw ControlPlaneStore.notFound()
        }
        let permissions = caller.permissions
        let allowed =
            write ? permissions.canWriteControlPlane(id, geo: geo) : permissions.canReadControlPlane(id, geo: geo)
        guard allowed else {
            throw permissionDenied(
                "Your roles do not allow \(write ? "changing" : "reading") this control plane in geo \(geo)")
        }
        return found
    }

    /// The caller and the control plane named by the path.
    func scope(_ request: APIRequest, write: Bool) throws -> (caller: Caller, controlPlane: ControlPlane) {
        let caller = try authenticator.caller(request)
        return (caller, try controlPlane(caller, request.parameter("controlPlaneId"), write: write))
    }
}
