import Foundation
import KonnectCore
import KonnectStorage
import Testing

@testable import KonnectNodes

/// The geo's unit of work: stores report what a write changed, and the changes become wake-ups only
/// once the write committed.
@Suite final class GeoDatabaseTests {
    let directory: String
    let wakeups = GeoWakeups()
    let stores: GeoStores
    let moment = SimTime(year: 2026, month: 2, day: 1)

    init() throws {
        directory = NSTemporaryDirectory() + "ks-geo-db-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        stores = GeoStores(
            database: try GeoDatabase(
                path: directory + "/geo.sqlite", ids: IdentifierSource(seed: 3, node: "geo-eu"), wakeups: wakeups))
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func controlPlane(_ name: String = "shop") throws -> ControlPlane {
        try stores.database.write { work in
            try stores.controlPlanes.create(
                ControlPlaneFields(name: name), organization: "o-1", at: moment, in: work)
        }
    }

    func service(_ id: String, name: String) -> GatewayEntity {
        GatewayEntity(
            id: id, kind: .service, name: name, body: ["id": .string(id), "name": .string(name), "host": "h"],
            createdAt: moment.seconds)
    }

    @Test func aCommittedWriteWakesWhatItChanged() throws {
        let usage = wakeups.usage.current
        let streams = wakeups.streams.current
        let credentials = wakeups.credentials.current
        try stores.database.write { work in
            try stores.usage.queue(
                .portalPublished(organizationID: "o-1", portalID: "p-1", name: "docs", at: moment), in: work)
        }
        #expect(wakeups.usage.current == usage + 1)
        #expect(wakeups.streams.current == streams, "queued usage wakes no push stream")
        #expect(wakeups.credentials.current == credentials)
    }

    @Test func aWriteThatFailsWakesNothingAndLeavesNothing() throws {
        struct Refused: Error {}
        let usage = wakeups.usage.current
        #expect(throws: Refused.self) {
            try stores.database.write { work in
                try stores.usage.queue(
                    .portalPublished(organizationID: "o-1", portalID: "p-1", name: "docs", at: moment), in: work)
                throw Refused()
            }
        }
        #expect(wakeups.usage.current == usage)
        #expect(try stores.usage.count() == 0)
    }

    @Test func aCredentialChangeMovesTheCredentialGenerationAndWakesStreams() throws {
        let plane = try controlPlane()
        let credentials = wakeups.credentials.current
        let streams = wakeups.streams.current
        try stores.database.write { work in
            _ = try stores.credentials.issue(
                secret: "kdp_secret", cert: nil, title: nil, controlPlane: plane.id, at: moment, in: work)
        }
        #expect(wakeups.credentials.current == credentials + 1)
        #expect(wakeups.streams.current == streams + 1)
        #expect(try stores.credentials.controlPlane(forSecret: "kdp_secret") == plane.id)
    }

    @Test("B3, A5: a removed control plane's credentials are kept for usage reports until its organization is purged")
    func aRemovedControlPlaneKeepsWhatLateUsageNeeds() throws {
        let plane = try controlPlane()
        let other = try stores.database.write { work in
            try stores.controlPlanes.create(
                ControlPlaneFields(name: "other"), organization: "o-2", at: moment, in: work)
        }
        try stores.database.write { work in
            _ = try stores.credentials.issue(
                secret: "kdp_shop", cert: nil, title: nil, controlPlane: plane.id, at: moment, in: work)
            _ = try stores.credentials.issue(
                secret: "kdp_other", cert: nil, title: nil, controlPlane: other.id, at: moment, in: work)
            try stores.nodes.recordUsageReport(node: "n-1", seq: 7, in: work)
        }
        let generation = wakeups.credentials.current
        try stores.database.write { work in
            try ControlPlaneRemoval(stores).remove(plane.id, organization: "o-1", at: moment, in: work)
            try ControlPlaneRemoval(stores).remove(other.id, organization: "o-2", at: moment, in: work)
        }
        #expect(wakeups.credentials.current > generation, "cached grants are looked up again")
        // Revoked for sync and ping; retired for usage, with the organization and the node's last report number.
        #expect(try stores.credentials.controlPlane(forSecret: "kdp_shop") == nil)
        #expect(try stores.removedControlPlanes.controlPlane(forSecret: "kdp_shop") == plane.id)
        #expect(try stores.removedControlPlanes.organization(of: plane.id) == "o-1")
        #expect(try stores.database.write { try stores.nodes.lastUsageReport(node: "n-1", in: $0) } == 7)
        #expect(try stores.removedControlPlanes.controlPlane(forSecret: "kdp_unknown") == nil)

        // The organization's purge forgets them; another organization's stay.
        let events = OrganizationEvents(geo: "eu", stores: stores, licenses: LicenseBook(store: stores.licenses))
        try events.apply(OutboxEvent(seq: 1, organizationID: "o-1", at: moment, kind: .deleted))
        #expect(try stores.removedControlPlanes.controlPlane(forSecret: "kdp_shop") == nil)
        #expect(try stores.removedControlPlanes.organization(of: plane.id) == nil)
        #expect(try stores.removedControlPlanes.controlPlane(forSecret: "kdp_other") == other.id)
        #expect(try stores.removedControlPlanes.organization(of: other.id) == "o-2")
    }

    @Test("C1: one write that changes several entities makes one new configuration version")
    func oneWriteOneConfigurationVersion() throws {
        let plane = try controlPlane()
        let builds = ConfigurationBuilds(database: stores.database, source: .gateway(stores))
        #expect(plane.configVersion == 1)
        #expect(try builds.latest(plane.id)?.hash == DeclarativeConfig.emptyHash)
        let streams = wakeups.streams.current
        try stores.database.write { work in
            for (index, name) in ["a", "b", "c"].enumerated() {
                try stores.entities.insert(
                    service("00000000-0000-4000-8000-00000000000\(index)", name: name), controlPlane: plane.id,
                    at: moment, in: work)
            }
        }
        let after = try #require(try stores.controlPlanes.find(plane.id))
        #expect(after.configVersion == 2)
        let bodies = try stores.entities.all(controlPlane: plane.id).map(\.body)
        let hash = try #require(try builds.latest(plane.id)).hash
        #expect(hash == DeclarativeConfig(services: bodies).kongHash)
        #expect(hash != DeclarativeConfig.emptyHash)
        #expect(wakeups.streams.current == streams + 1)
    }

    @Test("A committed write keeps nothing alive: its work (and the item changes it noted) is released")
    func aWriteReleasesItsWork() throws {
        let plane = try controlPlane()
        weak var released: GeoWork? = nil
        try stores.database.write { work in
            released = work
            try stores.entities.insert(
                service("00000000-0000-4000-8000-000000000009", name: "kept"), controlPlane: plane.id, at: moment,
                in: work)
        }
        #expect(released == nil)
    }

    @Test func aWriteThatTouchesNoEntityMakesNoConfigurationVersion() throws {
        let plane = try controlPlane()
        try stores.database.write { work in
            _ = try stores.controlPlanes.update(
                plane.id, organization: "o-1", ControlPlaneFields(description: "changed"), at: moment, in: work)
        }
        #expect(try stores.controlPlanes.find(plane.id)?.configVersion == 1)
    }

    @Test("P4: licenses noted from a request reach the disk with the next write, before any flush")
    func notedLicensesRideAlongWithTheNextWrite() throws {
        let licenses = LicenseBook(store: stores.licenses)
        stores.database.alsoInEveryWrite(licenses)
        let noted = OrganizationLicenses(gateway: ["id": "g-1"], mesh: ["id": "m-1"])
        licenses.note(noted, organization: "o-1")
        #expect(try stores.licenses.licenses(organization: "o-1") == nil, "a request writes nothing")
        #expect(try licenses.licenses(organization: "o-1") == noted, "but what was noted is what counts")
        _ = try controlPlane()
        #expect(try stores.licenses.licenses(organization: "o-1") == noted)
        #expect(
            try LicenseBook(store: stores.licenses).licenses(organization: "o-1") == noted,
            "a restarted geo (nothing in memory) reads them from disk")
    }

    @Test func aNameTakenInTheOrganizationIsAConflict() throws {
        _ = try controlPlane("shop")
        let error = #expect(throws: APIError.self) { _ = try controlPlane("shop") }
        #expect(error?.status == 409)
    }
}
