/// Every store of `geo.sqlite`, made once over one database. The node hands each route type, service
/// and loop only the stores it uses.
struct GeoStores: Sendable {
    let database: GeoDatabase
    let meta: GeoMetaStore
    let controlPlanes: ControlPlaneStore
    let entities: GatewayEntityStore
    let groups: ControlPlaneGroupStore
    let entityChanges: ConfigurationChangeStore
    let credentials: DataPlaneCredentialStore
    let nodes: DataPlaneNodeStore
    let removedControlPlanes: RemovedControlPlaneStore
    let portals: PortalStore
    let usage: UsageOutboxStore
    let licenses: OrganizationLicenseStore
    let decommissions: DecommissionStore
    let meshControlPlanes: MeshControlPlaneStore
    let meshResources: MeshResourceStore
    let meshResourceChanges: ConfigurationChangeStore
    let zoneTokens: ZoneTokenStore
    let zones: ZoneStore

    init(database: GeoDatabase) {
        self.database = database
        meta = GeoMetaStore(database: database)
        controlPlanes = ControlPlaneStore(database: database)
        groups = ControlPlaneGroupStore(database: database)
        entityChanges = .gateway(database)
        entities = GatewayEntityStore(
            database: database, controlPlanes: controlPlanes, groups: groups, changes: entityChanges)
        credentials = DataPlaneCredentialStore(database: database)
        nodes = DataPlaneNodeStore(database: database)
        removedControlPlanes = RemovedControlPlaneStore(database: database)
        portals = PortalStore(database: database)
        usage = UsageOutboxStore(database: database)
        licenses = OrganizationLicenseStore(database: database)
        decommissions = DecommissionStore(database: database)
        meshControlPlanes = MeshControlPlaneStore(database: database)
        meshResourceChanges = .mesh(database)
        meshResources = MeshResourceStore(
            database: database, meshControlPlanes: meshControlPlanes, changes: meshResourceChanges)
        zoneTokens = ZoneTokenStore(database: database)
        zones = ZoneStore(database: database)
    }
}
