import KonnectCore
import KonnectHTTP
import KonnectSecurity

/// A control plane's data-plane credentials (`dp-client-certificates`) and node list (C2).
struct DataPlaneRoutes: Sendable {
    let access: ControlPlaneAccess
    let database: GeoDatabase
    let credentials: DataPlaneCredentialStore
    let nodes: DataPlaneNodeStore
    let presence: NodePresence

    static func certificateNotFound() -> APIError { APIError.notFound("The requested certificate was not found.") }
    static func nodeNotFound() -> APIError { APIError.notFound("The requested node was not found.") }

    var routes: [Router.Route] {
        let base = "/v2/control-planes/{controlPlaneId}"
        return [
            Router.route("GET", base + "/dp-client-certificates") { request in
                let controlPlane = try access.scope(request, write: false).controlPlane
                let found = try credentials.list(controlPlane: controlPlane.id)
                return HTTPResponse.json([
                    "items": .array(found.map { DataPlaneRoutes.json($0, secret: nil) }),
                    "page": ["total_count": .int(found.count)],
                ])
            },
            Router.route("POST", base + "/dp-client-certificates", create),
            Router.route("GET", base + "/dp-client-certificates/{certificateId}") { request in
                let controlPlane = try access.scope(request, write: false).controlPlane
                guard
                    let found = try credentials.find(request.parameter("certificateId"), controlPlane: controlPlane.id)
                else { throw DataPlaneRoutes.certificateNotFound() }
                return HTTPResponse.json(["item": DataPlaneRoutes.json(found, secret: nil)])
            },
            Router.route("DELETE", base + "/dp-client-certificates/{certificateId}") { request in
                let controlPlane = try access.scope(request, write: true).controlPlane
                let revoked = try database.write { work in
                    try credentials.revoke(request.parameter("certificateId"), controlPlane: controlPlane.id, in: work)
                }
                guard revoked else { throw DataPlaneRoutes.certificateNotFound() }
                return .noContent
            },
            Router.route("GET", base + "/nodes") { request in
                let controlPlane = try access.scope(request, write: false).controlPlane
                let found = try nodes.list(controlPlane: controlPlane.id).map(presence.current)
                return HTTPResponse.json([
                    "items": .array(found.map(DataPlaneRoutes.json)), "page": ["total_count": .int(found.count)],
                ])
            },
            Router.route("GET", base + "/nodes/{nodeId}") { request in
                let controlPlane = try access.scope(request, write: false).controlPlane
                guard let found = try nodes.find(request.parameter("nodeId"), controlPlane: controlPlane.id) else {
                    throw DataPlaneRoutes.nodeNotFound()
                }
                return HTTPResponse.json(["item": DataPlaneRoutes.json(presence.current(found))])
            },
            Router.route("DELETE", base + "/nodes/{nodeId}") { request in
                let controlPlane = try access.scope(request, write: true).controlPlane
                let removed = try database.write { work in
                    try nodes.remove(request.parameter("nodeId"), controlPlane: controlPlane.id, in: work)
                }
                guard removed else { throw DataPlaneRoutes.nodeNotFound() }
                return .noContent
            },
        ]
    }

    /// `POST .../dp-client-certificates`: pins a credential. Given a `cert` (a PEM certificate), its
    /// fingerprint is the credential: a data plane connecting over TLS with that certificate is let in
    /// (Konnect's pinned mode). Without one, the geo issues a secret (`kdp_...`, shown once) for data
    /// planes linked by Unix socket.
    func create(_ request: APIRequest) throws -> HTTPResponse {
        let (caller, controlPlane) = try access.scope(request, write: true)
        var reader = try ObjectReader(request.jsonOrEmpty())
        let cert = reader.string("cert", nullable: false, minLength: 16, maxLength: 16384)
        let title = reader.string("title", maxLength: 255)
        try reader.finish()
        let secret = try cert.map { try PinnedCertificate.fingerprint($0) } ?? Secrets.token(prefix: "kdp_")
        let issued = try database.write { work in
            try credentials.issue(
                secret: secret, cert: cert, title: title, controlPlane: controlPlane.id, at: caller.now, in: work)
        }
        return HTTPResponse.json(["item": DataPlaneRoutes.json(issued, secret: secret)], status: 201)
    }

    static func json(_ credential: DataPlaneCredential, secret: String?) -> JSON {
        [
            "id": .string(credential.id), "title": .optional(credential.title),
            "cert": .string(credential.cert ?? secret ?? ""),
            // A pinned certificate's SHA-256 fingerprint, as `pki issue` prints it; a secret's hash otherwise.
            "cert_fingerprint": .string(
                credential.cert.flatMap { try? PinnedCertificate.fingerprint($0) }
                    ?? String(credential.secretHash.prefix(16))),
            "created_at": .int(credential.createdAt), "updated_at": .int(credential.updatedAt),
        ]
    }

    static func json(_ node: DataPlaneNodeRecord) -> JSON {
        [
            "id": .string(node.id), "version": .string(node.version), "hostname": .string(node.hostname),
            "last_ping": .int(node.lastPing), "type": .string(node.type), "created_at": .int(node.createdAt),
            "updated_at": .int(node.updatedAt), "config_hash": .string(node.configHash),
            "compatibility_status": ["state": "COMPATIBILITY_STATE_FULLY_COMPATIBLE", "issues": []],
        ]
    }
}
