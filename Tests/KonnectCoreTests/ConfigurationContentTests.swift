import KonnectSecurity
import Testing

@testable import KonnectCore

/// Rule C1: a configuration built by concatenating per-item canonical bytes is exactly today's
/// canonical declarative configuration, with today's hash.
@Suite struct ConfigurationContentTests {
    static let digester = ConfigurationFixtures.digester

    func item(_ collection: String, _ key: String, _ json: JSON) -> ConfigurationItem {
        ConfigurationItem(id: ConfigurationItemID(collection: collection, key: key), bytes: json.canonicalBytes)
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func aBuildIsTodaysCanonicalConfigurationAndHash(seed: UInt64) throws {
        let history = ConfigurationHistory(seed: seed, writes: 60)
        for version in stride(from: 1, through: history.latest, by: 7) {
            let content = try history.content(at: version)
            let declarative = history.declarative(at: version)
            #expect(content.canonicalBytes == declarative.canonicalBytes, "version \(version)")
            #expect(ConfigurationFixtures.md5(content) == declarative.hash(digest: Secrets.md5Hex))
            #expect(content.count == history.entities(at: version).count)
        }
    }

    @Test func anEmptyConfigurationIsTodaysEmptyDocument() {
        let content = ConfigurationContent(layout: .gateway)
        #expect(content.canonicalBytes == DeclarativeConfig().canonicalBytes)
        #expect(ConfigurationFixtures.md5(content) == DeclarativeConfig.emptyHash)
        #expect(ConfigurationContent(layout: .mesh).canonicalBytes == Array(#"{"meshes":[],"policies":[]}"#.utf8))
    }

    /// Today's Mesh policies document: meshes by name, policies by type, mesh and name (SQLite's order).
    @Test func meshPoliciesBuildInTodaysOrder() throws {
        let bodies: [JSON] = [
            ["type": "Mesh", "name": "default"], ["type": "Mesh", "name": "a-b"], ["type": "Mesh", "name": "a"],
            ["type": "MeshTimeout", "mesh": "default", "name": "t1", "spec": ["x": 1]],
            ["type": "MeshRetry", "mesh": "a-b", "name": "r", "spec": ["x": 2]],
            ["type": "MeshRetry", "mesh": "a", "name": "r", "spec": ["x": 3]],
            ["type": "MeshRetry", "mesh": "a", "name": "r-2", "spec": ["x": 4]],
            ["type": "MeshTrafficPermission", "mesh": "a", "name": "p", "spec": ["x": 5]],
        ]
        let items = try bodies.map { body in
            try ConfigurationLayout.mesh.item(body, in: body["type"] == "Mesh" ? "meshes" : "policies")
        }
        let content = try ConfigurationContent(layout: .mesh, items: items.reversed())
        func key(_ body: JSON) -> [String] {
            [
                body["type"]?.stringValue ?? "", body["mesh"]?.stringValue ?? body["name"]?.stringValue ?? "",
                body["name"]?.stringValue ?? "",
            ]
        }
        func sorted(_ list: [JSON]) -> [JSON] {
            list.sorted { key($0).lexicographicallyPrecedes(key($1)) { $0.utf8.lexicographicallyPrecedes($1.utf8) } }
        }
        let today: JSON = [
            "meshes": .array(sorted(bodies.filter { $0["type"] == "Mesh" })),
            "policies": .array(sorted(bodies.filter { $0["type"] != "Mesh" })),
        ]
        #expect(content.canonicalBytes == today.canonicalBytes)
        #expect(content.items(of: "meshes").map(\.key) == ["a", "a-b", "default"])
        #expect(
            content.items(of: "policies").map(\.key) == [
                "MeshRetry a r", "MeshRetry a r-2", "MeshRetry a-b r", "MeshTimeout default t1",
                "MeshTrafficPermission a p",
            ])
    }

    @Test func itemsAreKeptInKeyOrderWhateverTheirArrival() throws {
        var content = ConfigurationContent(layout: .gateway)
        for key in ["c", "a", "b", "ab", "B"] { try content.upsert(item("services", key, ["id": .string(key)])) }
        #expect(content.items(of: "services").map(\.key) == ["B", "a", "ab", "b", "c"])
        #expect(content.count == 5)
        #expect(content.count(of: "services") == 5)
        #expect(content.count(of: "routes") == 0)
    }

    @Test func upsertReplacesAndReturnsTheOldItemRemoveReturnsIt() throws {
        var content = ConfigurationContent(layout: .gateway)
        let first = item("routes", "r", ["id": "r", "paths": ["/a"]])
        let second = item("routes", "r", ["id": "r", "paths": ["/b"]])
        #expect(try content.upsert(first) == nil)
        #expect(try content.upsert(second) == first)
        #expect(content.item(first.id) == second)
        #expect(content.itemBytes == second.bytes.count)
        #expect(content.remove(first.id) == second)
        #expect(content.remove(first.id) == nil)
        #expect(content.isEmpty && content.itemBytes == 0)
        #expect(content.remove(ConfigurationItemID(collection: "nothing", key: "r")) == nil)
    }

    @Test func anItemTwiceOrOfAnotherLayoutIsAnError() {
        let twice = [item("services", "s", ["id": "s"]), item("services", "s", ["id": "s", "x": 1])]
        #expect(throws: ConfigurationError.self) { try ConfigurationContent(layout: .gateway, items: twice) }
        #expect(throws: ConfigurationError.self) {
            try ConfigurationContent(layout: .gateway, items: [item("meshes", "m", ["name": "m"])])
        }
        var content = ConfigurationContent(layout: .mesh)
        #expect(throws: ConfigurationError.self) { try content.upsert(item("services", "s", ["id": "s"])) }
    }

    @Test func theLayoutReadsKeysAndRefusesItemsWithout() throws {
        #expect(try ConfigurationLayout.gateway.item(["id": "x", "name": "n"], in: "plugins").key == "x")
        #expect(throws: ConfigurationError.self) { try ConfigurationLayout.gateway.item(["name": "n"], in: "plugins") }
        #expect(throws: ConfigurationError.self) { try ConfigurationLayout.gateway.item(["id": "x"], in: "upstreams") }
        #expect(throws: ConfigurationError.self) { try ConfigurationLayout.gateway.item("text", in: "services") }
        #expect(throws: ConfigurationError.self) {
            try ConfigurationLayout.mesh.item(["type": "MeshRetry", "name": "r"], in: "policies")
        }
        let body: JSON = ["_format_version": "3.0", "services": [["id": "s"]], "routes": []]
        #expect(try ConfigurationLayout.gateway.items(of: body).map(\.id.description) == ["services/s"])
        #expect(throws: ConfigurationError.self) { try ConfigurationLayout.gateway.items(of: ["services": "s"]) }
        #expect(ConfigurationLayout.of(.meshControlPlane(id: "m")) == .mesh)
    }

    /// The canonical form is a fixed point: parsing it and writing it again gives the same bytes, so a
    /// subscriber that re-encodes an item it received digests the bytes the geo digested.
    @Test(arguments: [11, 12, 13, 14] as [UInt64])
    func theCanonicalFormSurvivesParsing(seed: UInt64) throws {
        var fixtures = ConfigurationFixtures(seed: seed)
        for _ in 0..<300 {
            let value = fixtures.entity(id: fixtures.uuid())
            #expect(try JSONParser.parse(value.canonicalBytes).canonicalBytes == value.canonicalBytes)
            #expect(try JSONParser.parse(value.canonicalBytes).bytes == value.canonicalBytes)
        }
    }
}
