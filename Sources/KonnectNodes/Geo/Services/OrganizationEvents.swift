import KonnectCore

/// Carries out the auth node's lifecycle events in this geo (D4), in one transaction with the event
/// cursor, so an event is applied exactly once even across crashes: a deactivation decommissions
/// the organization's objects (D3, D5), a reactivation recommissions them with the restored licenses
/// (D7), a deletion purges them (A5).
struct OrganizationEvents: Sendable {
    let geo: String
    let database: GeoDatabase
    let meta: GeoMetaStore
    let decommissions: DecommissionStore
    let licenses: LicenseBook
    let controlPlanes: ControlPlaneStore
    let removal: ControlPlaneRemoval
    let removedControlPlanes: RemovedControlPlaneStore
    let portals: PortalStore
    let meshControlPlanes: MeshControlPlaneStore
    let usage: UsageOutboxStore
    /// Off in every real run (see `PlantedBug`).
    let plantedBug: PlantedBug

    /// Applies one event and advances the cursor, atomically; an event at or below the cursor is
    /// already applied.
    func apply(_ event: OutboxEvent) throws { try apply([event]) }

    /// Applies events in order and advances the cursor past the last, in one transaction (one commit
    /// for a whole page of the feed: a calendar move that deactivates or deletes many organizations is
    /// purged at once); events at or below the cursor are already applied.
    func apply(_ events: [OutboxEvent]) throws {
        let applied = try database.write { work -> [OutboxEvent] in
            var cursor = try meta.eventCursor(in: work)
            var applied: [OutboxEvent] = []
            for event in events where event.seq > cursor {
                let organization = event.organizationID
                switch event.kind {
                case .deactivated where plantedBug.skipsDeactivation():
                    Log.info("planted bug: event \(event.seq) (organization \(organization) deactivated) skipped")
                case .deactivated(let reason):
                    try decommissions.decommission(
                        organization: organization, reason: reason, at: event.at, in: work)
                case .reactivated(let gateway, let mesh):
                    try decommissions.recommission(organization: organization, in: work)
                    // Noted licenses ride along with this write (`GeoDatabase.alsoInEveryWrite`).
                    licenses.note(OrganizationLicenses(gateway: gateway, mesh: mesh), organization: organization)
                case .deleted:
                    try purge(organization, at: event.at, in: work)
                }
                cursor = event.seq
                applied.append(event)
            }
            if !applied.isEmpty { try meta.setEventCursor(cursor, in: work) }
            return applied
        }
        for event in applied { log(event) }
    }

    private func log(_ event: OutboxEvent) {
        let organization = event.organizationID
        switch event.kind {
        case .deactivated(let reason):
            Log.info(
                "organization \(organization) deactivated (\(reason)): its control planes in \(geo) are decommissioned")
        case .reactivated:
            Log.info("organization \(organization) reactivated: its control planes in \(geo) are recommissioned")
        case .deleted:
            Log.info("organization \(organization) deleted: its objects in \(geo) are purged")
        }
    }

    /// Removes every object of an organization from this geo (A5); published portals stop counting, and
    /// the credentials its removed control planes left for late usage reports are no longer accepted.
    private func purge(_ organization: String, at moment: SimTime, in work: GeoWork) throws {
        for id in try controlPlanes.ids(organization: organization, in: work) {
            try removal.remove(id, organization: organization, at: moment, in: work)
        }
        try removedControlPlanes.forget(organization: organization, in: work)
        for portal in try portals.list(organization: organization, in: work) where portal.published {
            try usage.queue(
                .portalUnpublished(organizationID: organization, portalID: portal.id, at: moment), in: work)
        }
        try portals.deleteAll(organization: organization, in: work)
        try meshControlPlanes.removeAll(organization: organization, in: work)
        try licenses.forget(organization: organization, in: work)
        try decommissions.recommission(organization: organization, in: work)
    }
}

extension OrganizationEvents {
    init(geo: String, stores: GeoStores, licenses: LicenseBook, plantedBug: PlantedBug = PlantedBug(environment: nil)) {
        self.init(
            geo: geo, database: stores.database, meta: stores.meta, decommissions: stores.decommissions,
            licenses: licenses, controlPlanes: stores.controlPlanes, removal: ControlPlaneRemoval(stores),
            removedControlPlanes: stores.removedControlPlanes,
            portals: stores.portals, meshControlPlanes: stores.meshControlPlanes, usage: stores.usage,
            plantedBug: plantedBug)
    }
}
