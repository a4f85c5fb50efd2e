/// What a configuration is for: a Gateway control plane (data planes) or a Mesh global control plane
/// (zones). Both use the same push stream (C2, D5).
public enum SyncTarget: Sendable, Hashable {
    case controlPlane(id: String)
    case meshControlPlane(id: String)

    public var id: String {
        switch self {
        case .controlPlane(let id), .meshControlPlane(let id): id
        }
    }

    /// The member naming the target, and the member holding the body.
    var keys: (id: String, body: String) {
        switch self {
        case .controlPlane: ("control_plane_id", "config")
        case .meshControlPlane: ("mesh_control_plane_id", "policies")
        }
    }
}

/// One version of a configuration as the geo pushes it: Kong's declarative configuration for a data
/// plane, the meshes and policies for a zone, with its content digest and the organization's license (P4).
/// A large configuration's items follow in `parts` `config_part` messages (its body then holds only
/// the members that are not collections), so that neither side holds it as one message.
public struct SyncedConfiguration: Sendable, Hashable {
    public var target: SyncTarget
    public var version: Int64
    /// Kong's hash: MD5 of the canonical configuration (C1).
    public var hash: String
    /// The sum of the items' SHA-256 (`ConfigurationDigest`), checked before the configuration is applied.
    public var digest: ConfigurationDigest
    /// The declarative configuration (`_format_version`, services, routes, ...) or `{meshes, policies}`.
    public var body: JSON
    /// How many `config_part` messages follow with the items (0: they are in `body`).
    public var parts: Int
    public var license: JSON

    public init(
        target: SyncTarget, version: Int64, hash: String, digest: ConfigurationDigest, body: JSON, parts: Int = 0,
        license: JSON
    ) {
        self.target = target
        self.version = version
        self.hash = hash
        self.digest = digest
        self.body = body
        self.parts = parts
        self.license = license
    }
}

/// Some of the items of a configuration sent in parts: part `index` (from 0) of the configuration at
/// `version`.
public struct SyncedConfigurationPart: Sendable, Hashable {
    public var target: SyncTarget
    public var version: Int64
    public var index: Int
    public var items: [ConfigurationItem]

    public init(target: SyncTarget, version: Int64, index: Int, items: [ConfigurationItem]) {
        self.target = target
        self.version = version
        self.index = index
        self.items = items
    }
}

/// The changes from one version of a configuration to a later one, as the geo pushes them to a
/// subscriber that runs `fromVersion` (C2: changes after connect), with the new version's digest and
/// the organization's license. The geo sends it as soon as the changes and the digest are known; Kong's
/// MD5 hash of the new version, which needs the whole configuration, follows in a `hash` message (a
/// disk cache's delta file records it with the delta). An empty delta (`fromVersion == version`)
/// tells a subscriber that reconnects that it is up to date.
public struct SyncedDelta: Sendable, Hashable {
    public var target: SyncTarget
    public var fromVersion: Int64
    public var version: Int64
    /// Kong's hash of `version` when the sender knows it; nil on the stream (a `hash` message follows).
    public var hash: String?
    public var digest: ConfigurationDigest
    public var changes: ConfigurationDelta
    public var license: JSON

    public init(
        target: SyncTarget, fromVersion: Int64, version: Int64, hash: String?, digest: ConfigurationDigest,
        changes: ConfigurationDelta, license: JSON
    ) {
        self.target = target
        self.fromVersion = fromVersion
        self.version = version
        self.hash = hash
        self.digest = digest
        self.changes = changes
        self.license = license
    }
}

/// Kong's hash of a version of a configuration, sent after the delta that led to it (C1).
public struct SyncedHash: Sendable, Hashable {
    public var target: SyncTarget
    public var version: Int64
    public var hash: String

    public init(target: SyncTarget, version: Int64, hash: String) {
        self.target = target
        self.version = version
        self.hash = hash
    }
}

/// A message of the push stream (`GET /internal/v1/dp/sync`, `/internal/v1/zone/sync`), one JSON
/// document per line.
public enum SyncMessage: Sendable, Hashable {
    /// The full configuration at a version: on connect, or when a subscriber cannot be sent a delta.
    case configuration(SyncedConfiguration)
    /// Items of a full configuration sent in parts.
    case configurationPart(SyncedConfigurationPart)
    /// The changes since the version the subscriber runs.
    case delta(SyncedDelta)
    /// Kong's hash of the version the last delta led to.
    case hash(SyncedHash)
    /// The control plane is decommissioned: keep the last configuration, stop proxying (D5).
    case decommissioned(reason: String)
    /// The credential was revoked: the stream ends.
    case unauthorized(reason: String)
    /// Nothing changed; sent on connect and every second so a silent link is noticed. Carries the
    /// calendar's moment as the geo knows it, so data planes and zones show simulated times (nil from a
    /// geo that does not send it).
    case heartbeat(now: SimTime?)

    /// About how many bytes of items one `config_part` carries: what each side holds of a large
    /// configuration in one message.
    public static let partBytes = 256 << 10

    public static let typeNames = [
        "config", "config_part", "delta", "hash", "decommissioned", "unauthorized", "heartbeat",
    ]

    /// The message as JSON (items of a delta parsed back from their canonical bytes).
    public var json: JSON {
        switch self {
        case .configuration(let configuration):
            let keys = configuration.target.keys
            var members: [(String, JSON)] = [
                ("type", "config"), (keys.id, .string(configuration.target.id)),
                ("version", .int(configuration.version)), ("hash", .string(configuration.hash)),
                ("digest", .string(configuration.digest.hex)), (keys.body, configuration.body),
            ]
            if configuration.parts > 0 { members.append(("parts", .int(configuration.parts))) }
            members.append(("license", configuration.license))
            return .object(JSONObject(members))
        case .configurationPart, .delta:
            // The line holds canonical JSON throughout, so parsing it cannot fail.
            return (try? JSONParser.parse(line)) ?? .null
        case .hash(let hash):
            return .object(
                JSONObject([
                    ("type", "hash"), (hash.target.keys.id, .string(hash.target.id)), ("version", .int(hash.version)),
                    ("hash", .string(hash.hash)),
                ]))
        case .decommissioned(let reason): return ["type": "decommissioned", "reason": .string(reason)]
        case .unauthorized(let reason): return ["type": "unauthorized", "reason": .string(reason)]
        case .heartbeat(let now):
            guard let now else { return ["type": "heartbeat"] }
            return ["type": "heartbeat", "now": .string(now.iso8601)]
        }
    }

    /// The message as one line of the stream.
    public var line: [UInt8] {
        switch self {
        case .delta(let delta): return SyncMessage.deltaLine(delta)
        case .configurationPart(let part): return SyncMessage.partLine(part)
        default: return json.bytes + [0x0A]
        }
    }

    /// The lines of a full configuration whose build the geo has as canonical bytes: one line (the
    /// same bytes as `.configuration(...).line` with the body parsed from them) while its items fit in
    /// `partBytes`, otherwise a header line and parts of at most about `partBytes` of items each.
    public static func configurationLines(
        target: SyncTarget, version: Int64, hash: String, digest: ConfigurationDigest, body: ConfigurationContent,
        license: JSON, partBytes: Int
    ) -> [[UInt8]] {
        guard body.itemBytes > partBytes else {
            return [
                configurationLine(
                    target: target, version: version, hash: hash, digest: digest, body: body, license: license)
            ]
        }
        var parts: [[ConfigurationItem]] = [[]]
        var size = 0
        body.forEachItem { item in
            if size > 0 && size + item.bytes.count > partBytes {
                parts.append([])
                size = 0
            }
            parts[parts.count - 1].append(item)
            size += item.bytes.count
        }
        let header = SyncMessage.configuration(
            SyncedConfiguration(
                target: target, version: version, hash: hash, digest: digest,
                body: (try? JSONParser.parse(body.layout.fixedBody)) ?? [:], parts: parts.count, license: license))
        return [header.line]
            + parts.enumerated().map { index, items in
                partLine(SyncedConfigurationPart(target: target, version: version, index: index, items: items))
            }
    }

    /// A part's line, its items' canonical bytes written as they are.
    static func partLine(_ part: SyncedConfigurationPart) -> [UInt8] {
        let keys = part.target.keys
        var out = Array(#"{"type":"config_part",""#.utf8)
        out.reserveCapacity(part.items.reduce(0) { $0 + $1.bytes.count + 40 } + 256)
        out += Array(keys.id.utf8) + Array(#"":"#.utf8) + JSON.string(part.target.id).bytes
        out += Array(#","version":"#.utf8) + Array(String(part.version).utf8)
        out += Array(#","part":"#.utf8) + Array(String(part.index).utf8) + Array(#","items":["#.utf8)
        for (index, item) in part.items.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(#"{"collection":"#.utf8) + JSON.string(item.collection).bytes
            out += Array(#","item":"#.utf8) + item.bytes + [UInt8(ascii: "}")]
        }
        out += Array("]}\n".utf8)
        return out
    }

    /// The line of a full configuration whose build the geo already has as canonical bytes: the same
    /// bytes as `.configuration(...).line` with the body parsed from them, without parsing them.
    public static func configurationLine(
        target: SyncTarget, version: Int64, hash: String, digest: ConfigurationDigest, body: ConfigurationContent,
        license: JSON
    ) -> [UInt8] {
        let keys = target.keys
        var out = Array(#"{"type":"config",""#.utf8)
        out.reserveCapacity(body.itemBytes + body.count + 512)
        out += Array(keys.id.utf8) + Array(#"":"#.utf8) + JSON.string(target.id).bytes
        out += Array(#","version":"#.utf8) + Array(String(version).utf8)
        out += Array(#","hash":"#.utf8) + JSON.string(hash).bytes
        out += Array(#","digest":""#.utf8) + Array(digest.hex.utf8) + Array(#"",""#.utf8)
        out += Array(keys.body.utf8) + Array(#"":"#.utf8)
        body.write { out.append(contentsOf: $0) }
        out += Array(#","license":"#.utf8) + license.bytes
        out += Array("}\n".utf8)
        return out
    }

    /// A delta's line, its items' canonical bytes written as they are.
    static func deltaLine(_ delta: SyncedDelta) -> [UInt8] {
        let keys = delta.target.keys
        var out = Array(#"{"type":"delta",""#.utf8)
        out.reserveCapacity(delta.changes.itemBytes + 128 * delta.changes.count + 512)
        out += Array(keys.id.utf8) + Array(#"":"#.utf8) + JSON.string(delta.target.id).bytes
        out += Array(#","from_version":"#.utf8) + Array(String(delta.fromVersion).utf8)
        out += Array(#","version":"#.utf8) + Array(String(delta.version).utf8)
        if let hash = delta.hash { out += Array(#","hash":"#.utf8) + JSON.string(hash).bytes }
        out += Array(#","digest":""#.utf8) + Array(delta.digest.hex.utf8) + Array(#"","upserts":["#.utf8)
        for (index, item) in delta.changes.upserts.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(#"{"collection":"#.utf8) + JSON.string(item.collection).bytes
            out += Array(#","item":"#.utf8) + item.bytes + [UInt8(ascii: "}")]
        }
        out += Array(#"],"deletes":["#.utf8)
        for (index, id) in delta.changes.deletes.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += JSON.object(JSONObject([("collection", .string(id.collection)), ("key", .string(id.key))])).bytes
        }
        out += Array(#"],"license":"#.utf8) + delta.license.bytes
        out += Array("}\n".utf8)
        return out
    }

    public init(json: JSON) throws(ContractError) {
        self = try decodeContract("sync message", json) { reader in
            switch reader.string("type", required: true, nullable: false, allowed: SyncMessage.typeNames) {
            case "config":
                guard let target = SyncMessage.target(&reader) else { return nil }
                let version = reader.int("version", required: true, nullable: false, min: 0)
                let hash = SyncMessage.hash(&reader)
                let digest = SyncMessage.digest(&reader)
                let body = reader.object(target.keys.body, required: true, nullable: false)
                let parts = reader.int("parts", nullable: false, min: 0, max: 1_000_000) ?? 0
                let license = reader.any("license")
                guard let version, let hash, let digest, let body, let license else { return nil }
                return .configuration(
                    SyncedConfiguration(
                        target: target, version: version, hash: hash, digest: digest, body: .object(body),
                        parts: Int(parts), license: license))
            case "config_part":
                guard let target = SyncMessage.target(&reader) else { return nil }
                let version = reader.int("version", required: true, nullable: false, min: 0)
                let index = reader.int("part", required: true, nullable: false, min: 0, max: 1_000_000)
                let items = try SyncMessage.items(&reader, "items", layout: .of(target))
                guard let version, let index, let items else { return nil }
                return .configurationPart(
                    SyncedConfigurationPart(target: target, version: version, index: Int(index), items: items))
            case "delta":
                guard let target = SyncMessage.target(&reader) else { return nil }
                let from = reader.int("from_version", required: true, nullable: false, min: 0)
                let version = reader.int("version", required: true, nullable: false, min: 0)
                let hash = reader.string("hash", nullable: false, minLength: 1, maxLength: 64)
                let digest = SyncMessage.digest(&reader)
                let changes = try SyncMessage.changes(&reader, layout: .of(target))
                let license = reader.any("license")
                guard let from, let version, let digest, let changes, let license else { return nil }
                return .delta(
                    SyncedDelta(
                        target: target, fromVersion: from, version: version, hash: hash, digest: digest,
                        changes: changes, license: license))
            case "hash":
                guard let target = SyncMessage.target(&reader) else { return nil }
                let version = reader.int("version", required: true, nullable: false, min: 0)
                let hash = SyncMessage.hash(&reader)
                guard let version, let hash else { return nil }
                return .hash(SyncedHash(target: target, version: version, hash: hash))
            case "decommissioned":
                return reader.text("reason", maxLength: 4096).map { .decommissioned(reason: $0) }
            case "unauthorized":
                return reader.text("reason", maxLength: 4096).map { .unauthorized(reason: $0) }
            case "heartbeat":
                if reader.has("now") {
                    guard let now = reader.moment("now") else { return nil }
                    return .heartbeat(now: now)
                }
                return .heartbeat(now: nil)
            default:
                return nil
            }
        }
    }

    private static func target(_ reader: inout ObjectReader) -> SyncTarget? {
        if reader.has("mesh_control_plane_id") {
            return reader.text("mesh_control_plane_id").map { .meshControlPlane(id: $0) }
        }
        return reader.text("control_plane_id").map { .controlPlane(id: $0) }
    }

    private static func hash(_ reader: inout ObjectReader) -> String? {
        reader.string("hash", required: true, nullable: false, minLength: 1, maxLength: 64)
    }

    private static func digest(_ reader: inout ObjectReader) -> ConfigurationDigest? {
        guard let text = reader.string("digest", required: true, nullable: false, maxLength: 64) else { return nil }
        guard let digest = ConfigurationDigest(hex: text) else {
            reader.fail("digest", "invalid", "must be 64 lower-case hex digits")
            return nil
        }
        return digest
    }

    /// `upserts` (`[{collection, item}]`) and `deletes` (`[{collection, key}]`), each item keyed and
    /// made canonical by the target's layout.
    private static func changes(_ reader: inout ObjectReader, layout: ConfigurationLayout) throws(APIError)
        -> ConfigurationDelta?
    {
        let upserts = try items(&reader, "upserts", layout: layout)
        var deletes: [ConfigurationItemID] = []
        try entries(&reader, "deletes") { nested in
            let collection = nested.string("collection", required: true, nullable: false, allowed: layout.collections)
            if let key = nested.text("key"), let collection {
                deletes.append(ConfigurationItemID(collection: collection, key: key))
            }
        }
        guard let upserts, reader.problems.isEmpty else { return nil }
        return ConfigurationDelta(upserts: upserts, deletes: deletes)
    }

    /// An array of `{collection, item}`, each item keyed and made canonical by the layout.
    static func items(_ reader: inout ObjectReader, _ member: String, layout: ConfigurationLayout) throws(APIError)
        -> [ConfigurationItem]?
    {
        var items: [ConfigurationItem] = []
        try entries(&reader, member) { nested in
            let collection = nested.string("collection", required: true, nullable: false, allowed: layout.collections)
            let item = nested.any("item")
            guard let collection, let item else { return }
            do {
                items.append(try layout.item(item, in: collection))
            } catch {
                nested.fail("item", "invalid", "\(error)")
            }
        }
        return reader.problems.isEmpty ? items : nil
    }

    /// Reads each object of a required array member with a reader whose problems name its position.
    private static func entries(
        _ reader: inout ObjectReader, _ member: String, _ read: (inout ObjectReader) -> Void
    ) throws(APIError) {
        guard let value = reader.any(member) else { return }
        guard case .array(let entries) = value else {
            reader.fail(member, "is_array", "must be an array, got \(value.typeName)")
            return
        }
        for (position, entry) in entries.enumerated() {
            var nested = try ObjectReader(entry, prefix: "\(member)[\(position)]")
            read(&nested)
            reader.absorb(nested, strict: false)
        }
    }
}
