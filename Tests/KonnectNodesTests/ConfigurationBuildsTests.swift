import Foundation
import KonnectCore
import KonnectHTTP
import KonnectSecurity
import KonnectStorage
import Testing

@testable import KonnectNodes

/// Rules C1, C2 through the geo's stores: a write records only what it changed; the configuration and
/// its hash are built lazily, once per version, exactly as today's full rebuild; the change log gives
/// deltas from any version it still reaches.
@Suite final class ConfigurationBuildsTests: @unchecked Sendable {
    let directory: String
    let wakeups = GeoWakeups()
    let stores: GeoStores
    let builds: ConfigurationBuilds
    let moment = SimTime(year: 2026, month: 2, day: 1)
    var random = SeededRandom(seed: 5)

    init() throws {
        directory = NSTemporaryDirectory() + "ks-builds-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        stores = GeoStores(
            database: try GeoDatabase(
                path: directory + "/geo.sqlite", ids: IdentifierSource(seed: 3, node: "geo-eu"), wakeups: wakeups))
        builds = ConfigurationBuilds(database: stores.database, source: .gateway(stores))
    }

    deinit { if owned { try? FileManager.default.removeItem(atPath: directory) } }

    func controlPlane() throws -> String {
        try stores.database.write { work in
            try stores.controlPlanes.create(ControlPlaneFields(name: "shop"), organization: "o-1", at: moment, in: work)
        }.id
    }

    func below(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }

    func uuid() -> String { IdentifierSource.uuid((0..<16).map { _ in UInt8(below(256)) }) }

    /// `count` random writes from 8 threads (group commit shares their fsyncs), each with its own seed.
    func burst(_ count: Int, _ plane: String) throws {
        try concurrently(8, lanes: 8, name: "burst") { lane in
            let writer = try ConfigurationBuildsTests(sharing: self, seed: UInt64(lane + 100))
            for _ in 0..<(count / 8 + (lane < count % 8 ? 1 : 0)) { try writer.randomWrite(plane) }
        }
    }

    /// A writer over the same stores with its own random generator.
    private init(sharing other: ConfigurationBuildsTests, seed: UInt64) throws {
        directory = other.directory
        stores = other.stores
        builds = other.builds
        random = SeededRandom(seed: seed)
        owned = false
    }

    private var owned = true

    static let texts = ["orders", "quote \" \\ slash /", "line\nbreak", "café 中文 🦍", "\u{01}"]

    func body(_ id: String, kind: GatewayEntityKind) -> JSON {
        var members: [(String, JSON)] = [("id", .string(id)), ("created_at", .int(below(1000)))]
        if below(2) == 0 { members.append(("host", .string(Self.texts[below(Self.texts.count)]))) }
        if below(2) == 0 { members.append(("config", ["b": .double(0.5), "a": [.int(below(9)), .null, true]])) }
        if below(2) == 0 { members.append(("tags", .strings([Self.texts[below(Self.texts.count)]]))) }
        members.shuffle(using: &random)
        return .object(JSONObject(members))
    }

    /// The entities this writer created and did not delete.
    var mine: [(id: String, kind: GatewayEntityKind)] = []

    /// One write of one to three random creates, updates or deletes (of entities this writer made).
    func randomWrite(_ plane: String) throws {
        let (created, deleted) = try stores.database.write { work -> ([(String, GatewayEntityKind)], Set<String>) in
            var created: [(String, GatewayEntityKind)] = []
            var deleted = Set<String>()
            for _ in 0...below(3) {
                let roll = below(10)
                let candidates = mine.filter { !deleted.contains($0.id) }
                if candidates.isEmpty || roll < 4 {
                    let id = uuid()
                    let kind = GatewayEntityKind.allCases[below(4)]
                    try stores.entities.insert(
                        GatewayEntity(id: id, kind: kind, name: nil, body: body(id, kind: kind), createdAt: 1),
                        controlPlane: plane, at: moment, in: work)
                    created.append((id, kind))
                } else {
                    let entity = candidates[below(candidates.count)]
                    if roll < 8 {
                        try stores.entities.replace(
                            GatewayEntity(
                                id: entity.id, kind: entity.kind, name: nil, body: body(entity.id, kind: entity.kind),
                                createdAt: 1), controlPlane: plane, at: moment, in: work)
                    } else {
                        try stores.entities.delete(entity.id, controlPlane: plane, at: moment, in: work)
                        deleted.insert(entity.id)
                    }
                }
            }
            return (created, deleted)
        }
        mine.removeAll { deleted.contains($0.id) }
        mine += created.map { (id: $0.0, kind: $0.1) }
    }

    /// Today's implementation: every entity read back and its declarative configuration built whole.
    func today(_ plane: String) throws -> DeclarativeConfig {
        var collections: [GatewayEntityKind: [JSON]] = [:]
        for entity in try stores.entities.all(controlPlane: plane) {
            collections[entity.kind, default: []].append(entity.body)
        }
        return DeclarativeConfig(
            services: collections[.service] ?? [], routes: collections[.route] ?? [],
            consumers: collections[.consumer] ?? [], plugins: collections[.plugin] ?? [])
    }

    @Test("C1: every version builds exactly today's configuration bytes and hash, over varied content")
    func buildsAreTodaysConfigurationAndHash() throws {
        let plane = try controlPlane()
        for round in 0..<40 {
            try randomWrite(plane)
            if round % 3 == 0 {
                let build = try #require(try builds.latest(plane))
                let today = try today(plane)
                #expect(build.content.canonicalBytes == today.canonicalBytes, "round \(round)")
                #expect(build.hash == today.kongHash)
                #expect(build.version == (try stores.controlPlanes.find(plane))?.configVersion)
                // A fresh cache (a restarted geo) builds the same from the stored canonical bytes.
                let fresh = try #require(
                    try ConfigurationBuilds(database: stores.database, source: .gateway(stores)).latest(plane))
                #expect(fresh.configuration == build.configuration)
            }
        }
    }

    @Test("C1: a burst of 1,000 writes is one build, of what they changed")
    func aBurstOfWritesIsOneBuild() throws {
        let plane = try controlPlane()
        _ = try builds.latest(plane)
        let before = builds.made.load(ordering: .relaxed)
        try burst(1000, plane)
        #expect(builds.made.load(ordering: .relaxed) == before, "writes build nothing")
        let build = try #require(try builds.latest(plane))
        #expect(try builds.latest(plane) === build, "the same version is not built again")
        #expect(builds.made.load(ordering: .relaxed) == before + 1)
        #expect(build.hash == (try today(plane)).kongHash)
    }

    @Test("C2: the changes from any version the log reaches, applied to it, give the latest build")
    func deltasFromTheChangeLogGiveTheLatestBuild() throws {
        let plane = try controlPlane()
        var kept: [ConfigurationBuild] = []
        for round in 0..<60 {
            try randomWrite(plane)
            if round % 4 == 0 { kept.append(try #require(try builds.latest(plane))) }
        }
        let latest = try #require(try builds.latest(plane))
        for earlier in kept {
            let delta = try #require(try builds.delta(plane, from: earlier.version, to: latest))
            var configuration = earlier.configuration
            try configuration.apply(
                delta, from: earlier.version, to: latest.version, expecting: latest.configuration.digest,
                digester: .sha256)
            #expect(configuration == latest.configuration, "from \(earlier.version)")
        }
    }

    @Test("C2: the change log keeps the last versions; a subscriber further behind gets the full configuration")
    func theChangeLogIsBounded() throws {
        let plane = try controlPlane()
        let retained = SyncPlan.retainedVersions
        try burst(Int(retained) + 100, plane)
        let latest = try #require(try builds.latest(plane))
        #expect(latest.head.changesSince == latest.version - retained)
        #expect(try builds.delta(plane, from: 1, to: latest) == nil)
        #expect(try builds.delta(plane, from: latest.head.changesSince, to: latest) != nil)
        let rows = try stores.database.read { snapshot in
            try snapshot.transaction.query(
                "SELECT COUNT(DISTINCT version) AS n FROM entity_changes WHERE cp_id = ?", .text(plane)
            )
            .first?.int("n")
        }
        #expect(rows == retained)
        // The log goes with its control plane.
        try stores.database.write { work in
            try ControlPlaneRemoval(stores).remove(plane, organization: "o-1", at: moment, in: work)
        }
        let left = try stores.database.read { snapshot in
            try snapshot.transaction.query("SELECT COUNT(*) AS n FROM entity_changes").first?.int("n")
        }
        #expect(left == 0)
        #expect(try builds.latest(plane) == nil)
    }

    @Test("C1: a write that changes nothing (a delete of nothing) makes no version")
    func deletingNothingMakesNoVersion() throws {
        let plane = try controlPlane()
        try stores.database.write { work in
            try stores.entities.delete(uuid(), controlPlane: plane, at: moment, in: work)
        }
        #expect(try stores.controlPlanes.find(plane)?.configVersion == 1)
    }

    @Test("D5: Mesh policies build as today's document, and deleting a mesh deletes its policies in the delta")
    func meshPoliciesBuildAndDelete() throws {
        let mesh = try stores.database.write { work in
            try stores.meshControlPlanes.create(
                name: "m", description: "", labels: [:], organization: "o-1", at: moment, in: work)
        }.id
        let meshBuilds = ConfigurationBuilds(database: stores.database, source: .mesh(stores))
        func put(_ key: MeshResourceKey, _ spec: JSON) throws {
            var body: JSONObject = ["type": .string(key.type), "name": .string(key.name), "spec": spec]
            if !key.isMesh { body["mesh"] = .string(key.mesh) }
            try stores.database.write { work in
                try stores.meshResources.put(key, body: .object(body), meshControlPlane: mesh, at: moment, in: work)
            }
        }
        let empty = try #require(try meshBuilds.latest(mesh))
        #expect(empty.hash == DeclarativeConfig.emptyHash)
        for name in ["default", "a-b", "a"] { try put(MeshResourceKey(type: "Mesh", mesh: name, name: name), [:]) }
        try put(MeshResourceKey(type: "MeshRetry", mesh: "a", name: "r"), ["x": 1])
        try put(MeshResourceKey(type: "MeshRetry", mesh: "a-b", name: "r"), ["x": 2])
        try put(MeshResourceKey(type: "MeshTimeout", mesh: "a", name: "t"), ["x": 3])
        let full = try #require(try meshBuilds.latest(mesh))
        // Today's document: meshes and policies in SQLite's (type, mesh, name) order.
        let today = try stores.database.read { snapshot -> JSON in
            let rows = try snapshot.transaction.query(
                "SELECT type, body FROM mesh_resources WHERE mesh_cp_id = ? ORDER BY type, mesh, name", .text(mesh))
            var meshes: [JSON] = []
            var policies: [JSON] = []
            for row in rows {
                if try row.text("type") == "Mesh" {
                    meshes.append(try row.document("body"))
                } else {
                    policies.append(try row.document("body"))
                }
            }
            return ["meshes": .array(meshes), "policies": .array(policies)]
        }
        #expect(full.content.canonicalBytes == today.canonicalBytes)
        #expect(full.hash == Secrets.md5Hex(today.canonicalBytes))
        try stores.database.write { work in
            _ = try stores.meshResources.delete(
                MeshResourceKey(type: "Mesh", mesh: "a", name: "a"), meshControlPlane: mesh, in: work)
        }
        let after = try #require(try meshBuilds.latest(mesh))
        let delta = try #require(try meshBuilds.delta(mesh, from: full.version, to: after))
        #expect(Set(delta.deletes.map(\.key)) == ["a", "MeshRetry a r", "MeshTimeout a t"])
        #expect(after.content.items(of: "policies").map(\.key) == ["MeshRetry a-b r"])
    }
}
