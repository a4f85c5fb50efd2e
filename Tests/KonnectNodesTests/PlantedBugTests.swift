import Foundation
import KonnectCore
import Testing

@testable import KonnectNodes

/// Issue 18: the bug planted for the chaos test is off unless the environment names it, and then skips
/// exactly one deactivation (advancing the cursor as if applied).
@Suite struct PlantedBugTests {
    @Test func offUnlessNamed() {
        #expect(!PlantedBug(environment: nil).skipsDeactivation())
        #expect(!PlantedBug(environment: "something-else").skipsDeactivation())
        let planted = PlantedBug(environment: "geo-skips-outbox-event")
        #expect(planted.skipsDeactivation())
        #expect(!planted.skipsDeactivation())
    }

    @Test func thePlantedGeoSkipsOneDeactivation() throws {
        let directory = NSTemporaryDirectory() + "ks-planted-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let stores = GeoStores(
            database: try GeoDatabase(
                path: directory + "/geo.sqlite", ids: IdentifierSource(seed: 1, node: "geo-eu"), wakeups: GeoWakeups()))
        let events = OrganizationEvents(
            geo: "eu", stores: stores, licenses: LicenseBook(store: stores.licenses),
            plantedBug: PlantedBug(environment: "geo-skips-outbox-event"))
        let now = SimTime.defaultStart
        try events.apply(OutboxEvent(seq: 1, organizationID: "o-1", at: now, kind: .deactivated(reason: "support")))
        try events.apply(OutboxEvent(seq: 2, organizationID: "o-2", at: now, kind: .deactivated(reason: "support")))
        #expect(try stores.meta.eventCursor() == 2)
        #expect(try stores.decommissions.reason(organization: "o-1") == nil)
        #expect(try stores.decommissions.reason(organization: "o-2") == "support")
    }
}
