import KonnectCore

/// What the zones of a Mesh global control plane are sent (D5): where it stands, and its meshes and
/// policies with the organization's Mesh license.
struct MeshPolicyFeed: Sendable {
    let database: GeoDatabase
    let meshControlPlanes: MeshControlPlaneStore
    let resources: MeshResourceStore
    let decommissions: DecommissionStore
    let licenses: LicenseBook

    func state(_ meshControlPlane: String) throws -> SyncState {
        try database.read { snapshot in
            guard let found = try meshControlPlanes.find(meshControlPlane, in: snapshot) else { return .deleted }
            if let reason = try decommissions.reason(organization: found.organizationID, in: snapshot) {
                return .decommissioned(
                    reason: "organization deactivated (\(reason)): the Mesh global control plane is decommissioned")
            }
            return .active(version: found.configVersion)
        }
    }

    func message(_ meshControlPlane: String) throws -> [UInt8] {
        try database.read { snapshot in
            guard let found = try meshControlPlanes.find(meshControlPlane, in: snapshot) else {
                throw MeshControlPlaneStore.notFound()
            }
            let license = try licenses.licenses(organization: found.organizationID, in: snapshot)
            return SyncMessage.configuration(
                SyncedConfiguration(
                    target: .meshControlPlane(id: meshControlPlane), version: found.configVersion,
                    hash: found.configHash,
                    body: try resources.policies(meshControlPlane: meshControlPlane, in: snapshot),
                    license: license?.mesh ?? .null)
            ).line
        }
    }
}
