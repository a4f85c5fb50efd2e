import KonnectSecurity
import Testing

@testable import KonnectCore

/// Rule C2: the full configuration on connect, changes after that. Deltas merge, apply atomically and
/// are verified by a digest that both sides update per item.
@Suite struct ConfigurationDeltaTests {
    static let digester = ConfigurationFixtures.digester

    func item(_ collection: String, _ key: String, _ json: JSON) -> ConfigurationItem {
        ConfigurationItem(id: ConfigurationItemID(collection: collection, key: key), bytes: json.canonicalBytes)
    }

    // MARK: - The digest

    @Test func theDigestRoundTripsThroughHexAndRefusesOtherText() {
        let element = ConfigurationDigest(element: Array(0..<32))
        #expect(element.hex == "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
        #expect(ConfigurationDigest(hex: element.hex) == element)
        #expect(ConfigurationDigest.zero.hex == String(repeating: "0", count: 64))
        for text in ["", "00", String(repeating: "g", count: 64), String(repeating: "A", count: 64)] {
            #expect(ConfigurationDigest(hex: text) == nil, "\(text)")
        }
    }

    @Test func additionWrapsAroundAndSubtractionUndoesIt() {
        let maximum = ConfigurationDigest(element: Array(repeating: 0xFF, count: 32))
        let one = ConfigurationDigest(element: Array(repeating: 0, count: 31) + [1])
        #expect(maximum + one == .zero, "carries run through every word and wrap modulo 2^256")
        #expect(ConfigurationDigest.zero - one == maximum)
        let a = ConfigurationDigest(element: (0..<32).map { UInt8($0 * 7 % 256) })
        let b = ConfigurationDigest(element: (0..<32).map { UInt8(255 - $0 * 3) })
        #expect(a + b == b + a)
        #expect(a + b - b == a)
        #expect((a + b) - a - b == .zero)
        let low = ConfigurationDigest(element: Array(repeating: 0, count: 24) + Array(repeating: 0xFF, count: 8))
        #expect((low + one).hex == "0000000000000000000000000000000000000000000000010000000000000000")
    }

    @Test func anItemsElementCoversItsCollectionAndBytes() {
        let service = item("services", "x", ["id": "x"])
        let route = item("routes", "x", ["id": "x"])
        #expect(Self.digester.element(service) != Self.digester.element(route))
        let direct = ConfigurationDigest(element: Secrets.sha256Bytes(Array("services\n".utf8) + service.bytes))
        #expect(Self.digester.element(service) == direct)
    }

    @Test func theDigestOfAConfigurationIsTheSumOfItsElementsInAnyOrder() throws {
        let items = [
            item("services", "a", ["id": "a"]), item("routes", "b", ["id": "b"]), item("plugins", "c", ["id": "c"]),
        ]
        let content = try ConfigurationContent(layout: .gateway, items: items)
        let sum = items.reversed().reduce(ConfigurationDigest.zero) { $0 + Self.digester.element($1) }
        #expect(Self.digester.digest(content) == sum)
        #expect(Self.digester.digest(ConfigurationContent(layout: .gateway)) == .zero)
    }

    // MARK: - Merging

    @Test func mergingKeepsTheLastChangeOfEachItemSorted() {
        let a1 = item("services", "a", ["id": "a", "v": 1])
        let a2 = item("services", "a", ["id": "a", "v": 2])
        let b = item("routes", "b", ["id": "b"])
        let c = item("consumers", "c", ["id": "c"])
        let merged = ConfigurationDelta(merging: [
            .upsert(a1), .upsert(b), .upsert(a2), .delete(b.id), .delete(c.id), .upsert(c),
        ])
        #expect(merged.upserts == [c, a2], "sorted by collection, then key")
        #expect(merged.deletes == [b.id])
        #expect(merged.count == 3)
        #expect(merged.itemBytes == c.bytes.count + a2.bytes.count)
        // The same id in two collections is two items (an id reused by another kind).
        let reused = ConfigurationDelta(merging: [
            .delete(ConfigurationItemID(collection: "routes", key: "a")), .upsert(a1),
        ])
        #expect(reused.count == 2)
        #expect(
            ConfigurationDelta(upserts: [a1], deletes: []).followed(by: ConfigurationDelta(merging: [.delete(a1.id)]))
                == ConfigurationDelta(merging: [.delete(a1.id)]))
        #expect(ConfigurationDelta.empty.isEmpty)
    }

    @Test func theDeltaBetweenTwoConfigurationsNamesWhatDiffers() throws {
        let kept = item("services", "a", ["id": "a"])
        let changedBefore = item("routes", "b", ["id": "b", "v": 1])
        let changedAfter = item("routes", "b", ["id": "b", "v": 2])
        let gone = item("consumers", "c", ["id": "c"])
        let added = item("plugins", "d", ["id": "d"])
        let delta = ConfigurationDelta(from: [kept, changedBefore, gone], to: [added, changedAfter, kept])
        #expect(delta.upserts == [added, changedAfter], "an unchanged item is not sent")
        #expect(delta.deletes == [gone.id])
        var content = try ConfigurationContent(layout: .gateway, items: [kept, changedBefore, gone])
        for id in delta.deletes { _ = content.remove(id) }
        for upserted in delta.upserts { _ = try content.upsert(upserted) }
        #expect(content == (try ConfigurationContent(layout: .gateway, items: [kept, changedAfter, added])))
        #expect(ConfigurationDelta(from: [kept], to: [kept]).isEmpty)
    }

    // MARK: - Applying

    func version(_ items: [ConfigurationItem], at number: Int64 = 3) throws -> VersionedConfiguration {
        VersionedConfiguration(
            version: number, content: try ConfigurationContent(layout: .gateway, items: items), digester: Self.digester)
    }

    @Test func aDeltaAppliesFromItsVersionToTheDigestItClaims() throws {
        let a = item("services", "a", ["id": "a"])
        var configuration = try version([a])
        let b = item("routes", "b", ["id": "b"])
        let delta = ConfigurationDelta(upserts: [b], deletes: [a.id])
        let expected = try version([b], at: 5)
        #expect(configuration.digest(after: delta, digester: Self.digester) == expected.digest)
        try configuration.apply(delta, from: 3, to: 5, expecting: expected.digest, digester: Self.digester)
        #expect(configuration == expected)
    }

    @Test func aDeltaThatDoesNotVerifyChangesNothing() throws {
        let a = item("services", "a", ["id": "a"])
        let original = try version([a])
        let replaced = item("services", "a", ["id": "a", "host": "h"])
        let cases: [(ConfigurationDelta, Int64, ConfigurationDigest?)] = [
            (ConfigurationDelta(upserts: [replaced], deletes: []), 2, nil),  // from another version
            (ConfigurationDelta(upserts: [replaced], deletes: []), 3, .zero),  // another digest
            (ConfigurationDelta(upserts: [replaced], deletes: [a.id]), 3, nil),  // an id twice
            // No such collection.
            (ConfigurationDelta(upserts: [item("meshes", "m", ["name": "m"])], deletes: []), 3, nil),
        ]
        for (delta, from, expected) in cases {
            var configuration = original
            #expect(throws: ConfigurationError.self) {
                try configuration.apply(delta, from: from, to: 4, expecting: expected, digester: Self.digester)
            }
            #expect(configuration == original)
        }
        var configuration = original
        #expect(throws: ConfigurationError.self) {
            try configuration.apply(.empty, from: 3, to: 2, expecting: nil, digester: Self.digester)
        }
    }

    @Test func removingWhatIsNotThereChangesNothingButTheVersion() throws {
        let a = item("services", "a", ["id": "a"])
        var configuration = try version([a])
        let ghost = ConfigurationItemID(collection: "routes", key: "gone")
        try configuration.apply(
            ConfigurationDelta(upserts: [], deletes: [ghost]), from: 3, to: 4,
            expecting: configuration.digest, digester: Self.digester)
        #expect(configuration.version == 4)
        #expect(configuration.content.items == [a])
    }

    /// Property (C1, C2): for seeded random histories of creates, updates and deletes, the merged
    /// changes from any version applied to that version give exactly the full build of the later one:
    /// the same items, canonical bytes, MD5 hash and digest, also through the wire.
    @Test(arguments: [21, 22, 23, 24, 25, 26] as [UInt64])
    func deltasFromAnyVersionGiveTheFullBuild(seed: UInt64) throws {
        let history = ConfigurationHistory(seed: seed, writes: 80)
        var fixtures = ConfigurationFixtures(seed: seed ^ 0xFF)
        let builds = try (1...history.latest).map {
            VersionedConfiguration(version: $0, content: try history.content(at: $0), digester: Self.digester)
        }
        for _ in 0..<60 {
            let from = Int64(1 + fixtures.below(Int(history.latest)))
            let to = from + Int64(fixtures.below(Int(history.latest - from) + 1))
            let target = builds[Int(to) - 1]
            var configuration = builds[Int(from) - 1]
            let delta = history.delta(from: from, to: to)
            try configuration.apply(delta, from: from, to: to, expecting: target.digest, digester: Self.digester)
            #expect(configuration == target, "\(from) -> \(to)")
            #expect(configuration.content.canonicalBytes == history.declarative(at: to).canonicalBytes)
            #expect(
                ConfigurationFixtures.md5(configuration.content)
                    == history.declarative(at: to).hash(digest: Secrets.md5Hex))

            // The same through the wire: encoded, parsed, decoded, applied.
            let message = SyncMessage.delta(
                SyncedDelta(
                    target: .controlPlane(id: "cp"), fromVersion: from, version: to, hash: "h", digest: target.digest,
                    changes: delta, license: .null))
            guard case .delta(let received) = try SyncMessage(json: JSONParser.parse(message.line)) else {
                Issue.record("a delta decoded as something else")
                return
            }
            var remote = builds[Int(from) - 1]
            try remote.apply(received.changes, from: from, to: to, expecting: received.digest, digester: Self.digester)
            #expect(remote == target)
        }
    }

    // MARK: - Choosing what to send

    @Test(
        arguments: [
            (nil, 10, 5, SyncPlan.full), (4, 10, 5, .full), (5, 10, 5, .delta(from: 5)), (10, 10, 5, .delta(from: 10)),
            (11, 10, 5, .full), (7, 10, 1, .delta(from: 7)),
        ] as [(Int64?, Int64, Int64, SyncPlan)])
    func theGeoSendsADeltaOnlyWhenTheLogReachesBack(subscriber: Int64?, current: Int64, since: Int64, plan: SyncPlan) {
        #expect(SyncPlan.choose(subscriber: subscriber, current: current, changesSince: since) == plan)
    }

    @Test func aDeltaLargerThanTheConfigurationIsNotWorthSending() throws {
        let items = (0..<3).map { item("services", "s\($0)", ["id": .string("s\($0)")]) }
        let content = try ConfigurationContent(layout: .gateway, items: items)
        #expect(SyncPlan.prefersDelta(ConfigurationDelta(upserts: items, deletes: []), over: content))
        let more = ConfigurationDelta(upserts: items, deletes: [ConfigurationItemID(collection: "routes", key: "r")])
        #expect(!SyncPlan.prefersDelta(more, over: content))
        #expect(SyncPlan.prefersDelta(.empty, over: ConfigurationContent(layout: .gateway)))
    }
}

/// Rule C2: a large full configuration travels as a header and parts, put together before it applies.
@Suite struct ConfigurationAssemblyTests {
    static let target = SyncTarget.controlPlane(id: "cp")

    func lines(_ content: ConfigurationContent, partBytes: Int) -> [SyncMessage] {
        SyncMessage.configurationLines(
            target: Self.target, version: 9, hash: "h", digest: .zero, body: content, license: ["id": "l"],
            partBytes: partBytes
        ).map { line in (try? SyncMessage(json: JSONParser.parse(line))) ?? .heartbeat(now: nil) }
    }

    @Test(arguments: [41, 42] as [UInt64])
    func partsPutTogetherGiveTheConfiguration(seed: UInt64) throws {
        let history = ConfigurationHistory(seed: seed, writes: 80)
        let content = try history.content(at: history.latest)
        for partBytes in [200, 1000, 5000, 1 << 20] {
            let messages = lines(content, partBytes: partBytes)
            var assembly = ConfigurationAssembly()
            var complete: (configuration: SyncedConfiguration, items: [ConfigurationItem])? = nil
            for (index, message) in messages.enumerated() {
                #expect(complete == nil, "complete only after the last part")
                switch message {
                case .configuration(let header): complete = try assembly.onConfiguration(header)
                case .configurationPart(let part):
                    #expect(part.index == index - 1)
                    complete = try assembly.onPart(part)
                default: Issue.record("unexpected \(message)")
                }
            }
            let result = try #require(complete)
            #expect(try ConfigurationContent(layout: .gateway, items: result.items) == content)
            #expect(result.configuration.license == ["id": "l"])
            #expect(result.configuration.parts == (messages.count == 1 ? 0 : messages.count - 1))
            #expect(!assembly.isAssembling)
            if messages.count == 1 {
                // Small enough: one line, exactly today's message.
                #expect(
                    SyncMessage.configurationLines(
                        target: Self.target, version: 9, hash: "h", digest: .zero, body: content, license: ["id": "l"],
                        partBytes: partBytes)
                        == [
                            SyncMessage.configurationLine(
                                target: Self.target, version: 9, hash: "h", digest: .zero, body: content,
                                license: ["id": "l"])
                        ])
            }
        }
    }

    @Test func partsOutOfOrderOrWithoutTheirHeaderAreErrors() throws {
        let items = (0..<10).map {
            ConfigurationItem(
                id: ConfigurationItemID(collection: "services", key: "s\($0)"),
                bytes: (["id": .string("s\($0)"), "pad": .string(String(repeating: "p", count: 50))] as JSON)
                    .canonicalBytes)
        }
        let content = try ConfigurationContent(layout: .gateway, items: items)
        let messages = lines(content, partBytes: 100)
        guard case .configuration(let header) = messages[0], case .configurationPart(let first) = messages[1],
            case .configurationPart(let second) = messages[2]
        else {
            Issue.record("expected a header and parts: \(messages)")
            return
        }
        #expect(header.parts == messages.count - 1)
        #expect(header.body == ["_format_version": "3.0"])
        var assembly = ConfigurationAssembly()
        #expect(throws: ConfigurationError.self) { try assembly.onPart(first) }
        #expect(try assembly.onConfiguration(header) == nil)
        #expect(throws: ConfigurationError.self) { try assembly.onPart(second) }
        #expect(!assembly.isAssembling)
        _ = try assembly.onConfiguration(header)
        _ = try assembly.onPart(first)
        var other = second
        other.version = 8
        #expect(throws: ConfigurationError.self) { try assembly.onPart(other) }
        // A new header while a configuration is half received.
        _ = try assembly.onConfiguration(header)
        _ = try assembly.onPart(first)
        #expect(throws: ConfigurationError.self) { try assembly.onConfiguration(header) }
        var both = header
        both.body = ["services": [["id": "x"]]]
        #expect(throws: ConfigurationError.self) { try assembly.onConfiguration(both) }
    }
}
