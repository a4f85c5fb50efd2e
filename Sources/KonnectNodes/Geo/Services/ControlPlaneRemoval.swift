import KonnectCore

/// Removing a control plane (a DELETE, or its organization's purge): its services stop counting for
/// usage (B3), its entities, credentials and node records go, and its data planes learn it is gone.
/// Calls its data planes counted but had not reported yet are still billed: the control plane's
/// organization and its credentials are kept for usage reports only (`RemovedControlPlaneStore`), and
/// each node's last counted report number stays (`dp_usage_cursors`), so a report is counted exactly once.
struct ControlPlaneRemoval: Sendable {
    let controlPlanes: ControlPlaneStore
    let entities: GatewayEntityStore
    let groups: ControlPlaneGroupStore
    let credentials: DataPlaneCredentialStore
    let nodes: DataPlaneNodeStore
    let removed: RemovedControlPlaneStore
    let usage: UsageOutboxStore

    func remove(_ controlPlane: String, organization: String, at moment: SimTime, in work: GeoWork) throws {
        for service in try entities.list(.service, controlPlane: controlPlane, in: work) {
            try usage.queue(
                .serviceEnded(
                    organizationID: organization, controlPlaneID: controlPlane, serviceID: service.id, at: moment),
                in: work)
        }
        try entities.removeAll(controlPlane: controlPlane, in: work)
        // A member leaves its group (whose data planes get the union without it); a group's members stay.
        if let group = try groups.forget(controlPlane, in: work) { entities.groupChanged(group, at: moment, in: work) }
        try removed.retire(controlPlane, organization: organization, at: moment, in: work)
        try credentials.revokeAll(controlPlane: controlPlane, in: work)
        try nodes.removeAll(controlPlane: controlPlane, in: work)
        try controlPlanes.remove(controlPlane, in: work)
    }
}

extension ControlPlaneRemoval {
    init(_ stores: GeoStores) {
        self.init(
            controlPlanes: stores.controlPlanes, entities: stores.entities, groups: stores.groups,
            credentials: stores.credentials,
            nodes: stores.nodes, removed: stores.removedControlPlanes, usage: stores.usage)
    }
}
