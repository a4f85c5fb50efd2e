import KonnectSecurity

@testable import KonnectCore

/// Seeded random configuration content for the configuration tests: Kong entities with ids, bodies
/// that exercise the canonical writer (nesting, escapes, non-ASCII text, integers and doubles), and
/// random sequences of creates, updates and deletes.
struct ConfigurationFixtures {
    var random: SeededRandom

    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    static let digester = ItemDigester(sha256: { Secrets.sha256Bytes($0) })

    static func md5(_ content: ConfigurationContent) -> String {
        content.isEmpty ? DeclarativeConfig.emptyHash : Secrets.md5Hex { update in content.write(update) }
    }

    mutating func below(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }

    mutating func uuid() -> String {
        let digits = Array("0123456789abcdef")
        var text = ""
        for index in 0..<32 {
            if [8, 12, 16, 20].contains(index) { text.append("-") }
            text.append(digits[below(16)])
        }
        return text
    }

    static let texts = [
        "orders", "", "quote \" and backslash \\", "line\nbreak\ttab", "control \u{01}\u{1F}", "slash /path",
        "café", "中文", "emoji 🦍", "\u{2028}", "del \u{7F}",
    ]

    mutating func value(depth: Int = 0) -> JSON {
        switch below(depth > 2 ? 7 : 9) {
        case 0: return .null
        case 1: return .bool(below(2) == 0)
        case 2: return .int(Int64(below(2_000_001)) - 1_000_000)
        case 3: return .int(Int64.max - Int64(below(3)))
        case 4: return .double([0.5, -1e-7, 1e300, 123.0, -0.0, 3.141592653589793][below(6)])
        case 5, 6: return .string(ConfigurationFixtures.texts[below(ConfigurationFixtures.texts.count)])
        case 7: return .array((0..<below(4)).map { _ in value(depth: depth + 1) })
        default:
            var object = JSONObject()
            for _ in 0..<below(4) { object["k\(below(20))"] = value(depth: depth + 1) }
            return .object(object)
        }
    }

    /// An entity body with this id: a few fields, in a random member order.
    mutating func entity(id: String) -> JSON {
        var members: [(String, JSON)] = [("id", .string(id)), ("name", .string("e-\(below(1000))"))]
        for field in ["host", "paths", "config", "tags", "port", "zeta", "Alpha", "é"] where below(2) == 0 {
            members.append((field, value()))
        }
        members.shuffle(using: &random)
        return .object(JSONObject(members))
    }

    static let gatewayCollections = ["services", "routes", "consumers", "plugins"]
}

/// A seeded history of a Gateway configuration: every version's content (the truth, kept as JSON
/// bodies) and the changes that made it.
struct ConfigurationHistory {
    /// Entities by id: collection and body.
    var entities: [String: (collection: String, body: JSON)] = [:]
    /// Per version (index 0 is version 1, empty): the entities, and the changes that led to it.
    var versions: [[String: (collection: String, body: JSON)]] = [[:]]
    var changes: [[ConfigurationChange]] = [[]]

    /// `count` writes of one to three creates, updates or deletes each.
    init(seed: UInt64, writes count: Int) {
        var fixtures = ConfigurationFixtures(seed: seed)
        for _ in 0..<count {
            var write: [ConfigurationChange] = []
            for _ in 0...fixtures.below(3) {
                let ids = Array(entities.keys).sorted()
                let roll = fixtures.below(10)
                if ids.isEmpty || roll < 4 {
                    let id = fixtures.uuid()
                    let collection = ConfigurationFixtures.gatewayCollections[fixtures.below(4)]
                    entities[id] = (collection, fixtures.entity(id: id))
                    write.append(.upsert(ConfigurationHistory.item(id, entities[id]!)))
                } else if roll < 8 {
                    let id = ids[fixtures.below(ids.count)]
                    entities[id]!.body = fixtures.entity(id: id)
                    write.append(.upsert(ConfigurationHistory.item(id, entities[id]!)))
                } else {
                    let id = ids[fixtures.below(ids.count)]
                    write.append(.delete(ConfigurationItemID(collection: entities[id]!.collection, key: id)))
                    entities[id] = nil
                }
            }
            versions.append(entities)
            changes.append(write)
        }
    }

    static func item(_ id: String, _ entity: (collection: String, body: JSON)) -> ConfigurationItem {
        ConfigurationItem(
            id: ConfigurationItemID(collection: entity.collection, key: id), bytes: entity.body.canonicalBytes)
    }

    /// Version numbers start at 1.
    func entities(at version: Int64) -> [String: (collection: String, body: JSON)] { versions[Int(version) - 1] }

    /// Today's implementation: the declarative configuration of a version's entities.
    func declarative(at version: Int64) -> DeclarativeConfig {
        var collections: [String: [JSON]] = [:]
        for entity in entities(at: version).values { collections[entity.collection, default: []].append(entity.body) }
        return DeclarativeConfig(
            services: collections["services"] ?? [], routes: collections["routes"] ?? [],
            consumers: collections["consumers"] ?? [], plugins: collections["plugins"] ?? [])
    }

    /// A full build of a version from its items, given in reverse order (so each is inserted, not appended).
    func content(at version: Int64) throws -> ConfigurationContent {
        try ConfigurationContent(
            layout: .gateway,
            items: entities(at: version).sorted { $0.key > $1.key }.map { ConfigurationHistory.item($0.key, $0.value) })
    }

    /// The changes after `from` up to `to`, merged as the geo's change log does.
    func delta(from: Int64, to: Int64) -> ConfigurationDelta {
        ConfigurationDelta(merging: changes[Int(from)..<Int(to)].joined())
    }

    var latest: Int64 { Int64(versions.count) }
}
