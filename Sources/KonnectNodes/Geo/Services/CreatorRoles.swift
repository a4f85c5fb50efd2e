import KonnectCore
import KonnectHTTP

/// Makes the creator of a control plane its Admin in this geo (A4, Konnect's `Creator` role), by asking
/// the auth node (which owns roles) before the control plane is created: a control plane never exists
/// without its creator's role. If the auth node cannot record it, the control plane is not created and
/// the caller gets a 503 to retry.
struct CreatorRoles: Sendable {
    let geo: String
    let client: HTTPClient

    /// Recording a role is a durable write on the auth node: more than an introspection's budget.
    static let timeoutMilliseconds = 5000

    /// Whether a caller creating a control plane here needs the role: they may create control planes in
    /// this geo, but not write every control plane of it (only `Creator` let them create).
    static func needed(_ caller: Caller, geo: String) -> Bool {
        caller.permissions.canCreateControlPlanes(geo: geo) && !caller.permissions.canWriteControlPlane(nil, geo: geo)
    }

    /// Records the role for the control plane about to be created with `controlPlaneID`.
    func grant(_ caller: Caller, controlPlaneID: String) throws(APIError) {
        let asked = CreatorRoleRequest(
            organizationID: caller.organizationID, userID: caller.userID, controlPlaneID: controlPlaneID, geo: geo)
        let response: ClientResponse
        do {
            response = try client.json(
                "POST", "/internal/v1/creator-roles", asked.json, timeoutMilliseconds: CreatorRoles.timeoutMilliseconds)
        } catch {
            throw CreatorRoles.notCreated("the auth node could not be reached (\(error))")
        }
        switch response.status {
        case 200, 201:
            do {
                _ = try CreatorRoleReceipt(json: response.json ?? .null)
            } catch {
                Log.error("the auth node sent a creator role receipt this geo does not understand: \(error)")
                throw CreatorRoles.notCreated("the auth node sent something this geo does not understand (\(error))")
            }
        case 403, 404, 409:
            // The auth node's own answer (the caller lost the role, left, or the organization was closed).
            throw APIError(
                status: response.status, title: response.json?["title"]?.stringValue ?? "Permission denied",
                detail: response.json?["detail"]?.stringValue ?? "The auth node refused the creator's role")
        default:
            throw CreatorRoles.notCreated("the auth node answered \(response.status)")
        }
    }

    static func notCreated(_ why: String) -> APIError {
        APIError(
            status: 503, title: "Auth Node Unavailable",
            detail:
                "The control plane was not created: its creator must become its Admin first, and \(why). Retry when the auth node is back.",
            extra: JSONObject([("reason", "auth_node_unavailable")]))
    }
}
