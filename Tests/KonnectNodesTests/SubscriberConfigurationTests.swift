import Foundation
import KonnectCore
import KonnectHTTP
import KonnectSecurity
import Synchronization
import Testing

@testable import KonnectNodes

/// Rules C2, D6 on the receiving side: updates are verified before they apply, the route table moves
/// with the configuration, the disk cache is a snapshot plus delta files that a restart replays, and
/// the MD5 hash is audited off the apply path.
@Suite final class SubscriberConfigurationTests {
    let directory: String
    let target = SyncTarget.controlPlane(id: "cp-1")

    init() throws {
        directory = NSTemporaryDirectory() + "ks-subscriber-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    static func service(_ id: String, host: String) -> JSON { ["id": .string(id), "host": .string(host), "port": 80] }
    static func route(_ id: String, path: String, service: String) -> JSON {
        ["id": .string(id), "paths": [.string(path)], "service": ["id": .string(service)]]
    }

    /// The geo's side: versions of a configuration and the messages it would send.
    struct Geo {
        var configuration: VersionedConfiguration
        let target: SyncTarget

        init(target: SyncTarget, body: JSON, version: Int64 = 3) throws {
            self.target = target
            let content = try ConfigurationContent(
                layout: .gateway, items: try ConfigurationLayout.gateway.items(of: body))
            configuration = VersionedConfiguration(version: version, content: content, digester: .sha256)
        }

        func fullUpdate() throws -> ConfigurationUpdate {
            .full(full, items: try ConfigurationLayout.gateway.items(of: full.body))
        }

        var full: SyncedConfiguration {
            SyncedConfiguration(
                target: target, version: configuration.version, hash: configuration.content.kongHash,
                digest: configuration.digest,
                body: (try? JSONParser.parse(configuration.content.canonicalBytes)) ?? .null,
                license: ["id": "lic"])
        }

        /// Changes the configuration; returns the delta message.
        mutating func change(_ changes: [ConfigurationChange], license: JSON = ["id": "lic"]) throws -> SyncedDelta {
            let from = configuration.version
            let delta = ConfigurationDelta(merging: changes)
            try configuration.apply(delta, from: from, to: from + 1, expecting: nil, digester: .sha256)
            return SyncedDelta(
                target: target, fromVersion: from, version: from + 1, hash: configuration.content.kongHash,
                digest: configuration.digest, changes: delta, license: license)
        }
    }

    static func upsert(_ collection: String, _ json: JSON) throws -> ConfigurationChange {
        .upsert(try ConfigurationLayout.gateway.item(json, in: collection))
    }

    func subscriber() -> SubscriberConfiguration<RouteTable> {
        SubscriberConfiguration(directory: directory, name: "config-cache", target: target, label: "dp")
    }

    func apply(_ subscriber: SubscriberConfiguration<RouteTable>, _ update: ConfigurationUpdate) throws {
        switch subscriber.prepare(update, receivedAt: "2026-01-01T00:00:00Z") {
        case .success(let prepared): try prepared.apply()
        case .failure(let error): throw error
        }
    }

    func routeTo(_ subscriber: SubscriberConfiguration<RouteTable>, _ path: String) -> String? {
        subscriber.current?.routes.match(ProxyRequestInfo(method: "GET", path: path, host: nil))?.upstream?.host
    }

    @Test("C2: a full configuration, then deltas, move the configuration and its route table together")
    func updatesMoveTheConfigurationAndRouteTableTogether() throws {
        var geo = try Geo(
            target: target,
            body: [
                "services": [Self.service("s1", host: "one")], "routes": [Self.route("r1", path: "/a", service: "s1")],
            ])
        let node = subscriber()
        try apply(node, try geo.fullUpdate())
        #expect(node.current?.version == 3)
        #expect(routeTo(node, "/a") == "one")
        let delta = try geo.change([
            try Self.upsert("services", Self.service("s1", host: "two")),
            try Self.upsert("routes", Self.route("r2", path: "/b", service: "s1")),
        ])
        try apply(node, .delta(delta))
        #expect(node.current?.version == 4)
        #expect(node.current?.record.configuration == geo.configuration)
        #expect(node.current?.hash == geo.configuration.content.kongHash)
        #expect(routeTo(node, "/a") == "two")
        #expect(routeTo(node, "/b") == "two")
        try apply(
            node,
            .delta(try geo.change([ConfigurationChange.delete(ConfigurationItemID(collection: "routes", key: "r1"))])))
        #expect(routeTo(node, "/a") == nil)
        #expect(node.current?.record.configuration == geo.configuration)
    }

    @Test("C2: an update that does not verify is refused and nothing changes")
    func anUpdateThatDoesNotVerifyChangesNothing() throws {
        var geo = try Geo(target: target, body: ["services": [Self.service("s1", host: "one")]])
        let node = subscriber()
        // A delta before any configuration.
        var probe = geo
        #expect(throws: ConfigurationError.self) {
            try apply(node, .delta(try probe.change([try Self.upsert("services", Self.service("s2", host: "x"))])))
        }
        var wrong = geo.full
        wrong.digest = .zero
        #expect(throws: ConfigurationError.self) {
            try apply(node, .full(wrong, items: try ConfigurationLayout.gateway.items(of: wrong.body)))
        }
        #expect(node.current == nil)
        try apply(node, try geo.fullUpdate())
        let before = node.current?.record.configuration
        // A corrupted item under the real digest, and a delta from another version.
        var corrupted = try geo.change([try Self.upsert("services", Self.service("s1", host: "two"))])
        corrupted.changes = ConfigurationDelta(
            upserts: [try ConfigurationLayout.gateway.item(Self.service("s1", host: "evil"), in: "services")],
            deletes: [])
        #expect(throws: ConfigurationError.self) { try apply(node, .delta(corrupted)) }
        var skipped = try geo.change([try Self.upsert("services", Self.service("s3", host: "three"))])
        skipped.fromVersion = 9
        #expect(throws: ConfigurationError.self) { try apply(node, .delta(skipped)) }
        #expect(node.current?.record.configuration == before)
        #expect(routeTo(node, "/") == nil)
    }

    @Test("D6: the disk cache is a snapshot plus a delta file per change; a restart replays them")
    func theCacheIsASnapshotPlusDeltas() throws {
        var geo = try Geo(
            target: target, body: ["services": .array((0..<40).map { Self.service("s\($0)", host: "host-\($0)") })])
        let node = subscriber()
        try apply(node, try geo.fullUpdate())
        #expect(try node.cache.writePending() == 3)
        for round in 0..<3 {
            try apply(
                node, .delta(try geo.change([try Self.upsert("services", Self.service("s\(round)", host: "new"))])))
            #expect(try node.cache.writePending() == geo.configuration.version)
        }
        let deltas = try FileManager.default.contentsOfDirectory(atPath: directory + "/config-cache-deltas").sorted()
        #expect(deltas == ["3-4.json", "4-5.json", "5-6.json"])
        // Two changes applied before the cache writes are one delta file.
        try apply(node, .delta(try geo.change([try Self.upsert("services", Self.service("s7", host: "new"))])))
        try apply(
            node,
            .delta(try geo.change([ConfigurationChange.delete(ConfigurationItemID(collection: "services", key: "s8"))]))
        )
        try node.cache.writePending()
        #expect(FileManager.default.fileExists(atPath: directory + "/config-cache-deltas/6-8.json"))

        let restarted = subscriber()
        #expect(restarted.current?.record.configuration == geo.configuration)
        #expect(restarted.current?.hash == geo.configuration.content.kongHash)
        #expect(restarted.current?.license == ["id": "lic"])
        #expect(restarted.cache.cachedVersion.withLock { $0 } == 8)
        #expect(restarted.current?.routes.serviceCount == 39)
    }

    @Test("D6: once the delta files outgrow the snapshot, the next write is a new snapshot")
    func deltasAreCompactedIntoASnapshot() throws {
        var geo = try Geo(target: target, body: ["services": [Self.service("s0", host: "h")]])
        let node = subscriber()
        try apply(node, try geo.fullUpdate())
        try node.cache.writePending()
        for round in 0..<6 {
            try apply(
                node, .delta(try geo.change([try Self.upsert("services", Self.service("s\(round + 1)", host: "h"))])))
            try node.cache.writePending()
        }
        let lines = try String(contentsOfFile: directory + "/config-cache.json", encoding: .utf8).split(separator: "\n")
        let snapshot = try JSONParser.parse(String(lines[1]))
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/config-cache-deltas")) ?? []
        #expect(snapshot["version"]?.intValue ?? 0 > 3, "a later snapshot replaced the first")
        #expect(files.count < 6)
        #expect(subscriber().current?.record.configuration == geo.configuration)
    }

    @Test("D6: a large configuration is cached as a header and parts, and read back one line at a time")
    func aLargeSnapshotIsWrittenInParts() throws {
        let services: [JSON] = (0..<3000).map {
            Self.service("s\($0)", host: "host-\($0)-" + String(repeating: "x", count: 80))
        }
        let geo = try Geo(target: target, body: ["services": .array(services)])
        #expect(geo.configuration.content.itemBytes > SyncMessage.partBytes)
        let node = subscriber()
        try apply(node, try geo.fullUpdate())
        try node.cache.writePending()
        let lines = try String(contentsOfFile: directory + "/config-cache.json", encoding: .utf8).split(separator: "\n")
        #expect(lines.count > 3, "the received line, the header, and several parts")
        #expect(lines.allSatisfy { $0.utf8.count < 2 * SyncMessage.partBytes })
        #expect(subscriber().current?.record.configuration == geo.configuration)
    }

    @Test("D6: a delta file that does not verify ends the replay there; a snapshot that does not verify is ignored")
    func aBrokenCacheFileIsNotTrusted() throws {
        var geo = try Geo(
            target: target, body: ["services": .array((0..<20).map { Self.service("s\($0)", host: "h\($0)") })])
        let node = subscriber()
        try apply(node, try geo.fullUpdate())
        try node.cache.writePending()
        try apply(node, .delta(try geo.change([try Self.upsert("services", Self.service("s1", host: "x"))])))
        try node.cache.writePending()
        let verified = geo.configuration
        try apply(node, .delta(try geo.change([try Self.upsert("services", Self.service("s2", host: "y"))])))
        try node.cache.writePending()
        let path = directory + "/config-cache-deltas/4-5.json"
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "\"y\"", with: "\"z\"")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let restarted = subscriber()
        #expect(restarted.current?.record.configuration == verified)
        #expect(!FileManager.default.fileExists(atPath: path))

        let snapshot = directory + "/config-cache.json"
        let broken = try String(contentsOfFile: snapshot, encoding: .utf8).replacingOccurrences(
            of: "\"h3\"", with: "\"hx\"")
        try broken.write(toFile: snapshot, atomically: true, encoding: .utf8)
        #expect(subscriber().current == nil)
    }

    @Test("C1: the hash audit reports a configuration whose MD5 is not the hash it came with")
    func theHashAuditReportsAMismatch() throws {
        let geo = try Geo(target: target, body: ["services": [Self.service("s1", host: "one")]])
        let audit = HashAudit()
        var record = ReplicaRecord(
            target: target, configuration: geo.configuration, hash: geo.configuration.content.kongHash, license: .null,
            receivedAt: "")
        let current = Mutex(record)
        let mismatches = Mutex<[String]>([])
        let stop = Mutex(false)
        spawnThread(name: "audit") {
            audit.run(
                label: "dp", current: { current.withLock { $0 } },
                mismatch: { reason in mismatches.withLock { $0.append(reason) } },
                isStopping: { stop.withLock { $0 } })
        }
        defer {
            stop.withLock { $0 = true }
            audit.note()
        }
        audit.note()
        #expect(FakeAuthNode.eventually { audit.checked.withLock { $0.count } >= 1 })
        #expect(mismatches.withLock { $0 }.isEmpty)
        record.hash = "0123456789abcdef0123456789abcdef"
        current.withLock { $0 = record }
        audit.note()
        #expect(FakeAuthNode.eventually { !mismatches.withLock { $0 }.isEmpty })
        #expect(mismatches.withLock { $0 }.first?.contains("0123456789abcdef0123456789abcdef") == true)
    }
}
