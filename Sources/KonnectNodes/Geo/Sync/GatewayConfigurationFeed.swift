import KonnectCore
import KonnectHTTP
import Synchronization

/// What the data planes of a control plane are sent (C2, D5, P4): where it stands, and its full
/// configuration with the organization's Gateway license. Both are computed once per change and shared
/// by every stream of the control plane, however many data planes are connected.
final class GatewayConfigurationFeed: Sendable {
    private let database: GeoDatabase
    private let controlPlanes: ControlPlaneStore
    private let entities: GatewayEntityStore
    private let decommissions: DecommissionStore
    private let licenses: LicenseBook
    private let wakeups: GeoWakeups
    private let states = Mutex<[String: (generation: UInt64, state: SyncState)]>([:])
    private let messages = Mutex<[String: (organizations: UInt64, version: Int64, line: [UInt8])]>([:])

    init(
        database: GeoDatabase, controlPlanes: ControlPlaneStore, entities: GatewayEntityStore,
        decommissions: DecommissionStore, licenses: LicenseBook, wakeups: GeoWakeups
    ) {
        self.database = database
        self.controlPlanes = controlPlanes
        self.entities = entities
        self.decommissions = decommissions
        self.licenses = licenses
        self.wakeups = wakeups
    }

    /// Where the control plane stands: deleted, decommissioned (by the operator, or with its whole
    /// organization), or active at a configuration version.
    func state(_ controlPlane: String) throws -> SyncState {
        let generation = wakeups.streams.current
        if let hit = states.withLock({ $0[controlPlane] }), hit.generation == generation { return hit.state }
        let state = try database.read { snapshot -> SyncState in
            guard let found = try controlPlanes.find(controlPlane, in: snapshot) else { return .deleted }
            if let reason = try decommissions.reason(organization: found.organizationID, in: snapshot) {
                return .decommissioned(
                    reason: "organization deactivated (\(reason)): the control plane is decommissioned")
            }
            if let reason = found.decommissioned { return .decommissioned(reason: reason) }
            return .active(version: found.configVersion)
        }
        states.withLock { $0[controlPlane] = (generation, state) }
        return state
    }

    /// The configuration message at `version` (or the newer one stored by now), built once.
    func message(_ controlPlane: String, version: Int64) throws -> [UInt8] {
        let organizations = wakeups.organizations.current
        if let cached = messages.withLock({ $0[controlPlane] }), cached.version == version,
            cached.organizations == organizations
        {
            return cached.line
        }
        let (actual, line) = try database.read { snapshot -> (Int64, [UInt8]) in
            guard let found = try controlPlanes.find(controlPlane, in: snapshot) else {
                throw APIError.notFound("The control plane was deleted")
            }
            let config = try entities.declarativeConfig(controlPlane: controlPlane, in: snapshot)
            let license = try licenses.licenses(organization: found.organizationID, in: snapshot)
            let message = SyncMessage.configuration(
                SyncedConfiguration(
                    target: .controlPlane(id: controlPlane), version: found.configVersion, hash: found.configHash,
                    body: config.json, license: license?.gateway ?? .null))
            return (found.configVersion, message.line)
        }
        messages.withLock { $0[controlPlane] = (organizations, actual, line) }
        return line
    }
}
