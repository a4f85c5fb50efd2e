/// The shape of a configuration: the members every version holds besides its collections, the
/// collections, and how an item's key is read from its JSON. A build is the canonical JSON object of
/// these members (sorted by name), each collection an array of its items sorted by key, so that a
/// build is the concatenation of per-item canonical bytes (C1, C2).
public struct ConfigurationLayout: Sendable, Hashable {
    /// `gateway` or `mesh`.
    public let name: String
    /// Collections, in the order their names sort (the canonical order of the build's members).
    public let collections: [String]
    /// Members besides the collections, with their canonical value bytes.
    let fixedMembers: [String: [UInt8]]

    /// Kong's declarative configuration (`_format_version`, consumers, plugins, routes, services): an
    /// item is a Kong entity, keyed by its id (a UUID, unique in its control plane).
    public static let gateway = ConfigurationLayout(
        name: "gateway", collections: ["consumers", "plugins", "routes", "services"],
        fixedMembers: ["_format_version": Array(#""3.0""#.utf8)])

    /// A Mesh global control plane's meshes and policies. A mesh is keyed by its name; a policy by
    /// its type, mesh and name joined by a space (names hold only lower-case letters, digits and '-',
    /// and a space sorts below all of them, so the key order is the (type, mesh, name) order).
    public static let mesh = ConfigurationLayout(name: "mesh", collections: ["meshes", "policies"], fixedMembers: [:])

    /// The layout of a target's configuration.
    public static func of(_ target: SyncTarget) -> ConfigurationLayout {
        switch target {
        case .controlPlane: .gateway
        case .meshControlPlane: .mesh
        }
    }

    /// Every member name of a build, in canonical (byte) order.
    var memberNames: [String] {
        (collections + fixedMembers.keys).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    public func contains(collection: String) -> Bool { collections.contains(collection) }

    /// The canonical JSON of the members that are not collections (`{"_format_version":"3.0"}`): the
    /// body of a configuration whose items are sent in parts.
    public var fixedBody: [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (position, member) in fixedMembers.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) })
            .enumerated()
        {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            out += JSON.string(member).bytes + [UInt8(ascii: ":")] + fixedMembers[member]!
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The key of an item of `collection`, read from its JSON; nil when the item lacks what keys it.
    public func key(of item: JSON, in collection: String) -> String? {
        switch name {
        case "mesh":
            guard let itemName = item["name"]?.stringValue, !itemName.isEmpty else { return nil }
            if collection == "meshes" { return itemName }
            guard let type = item["type"]?.stringValue, let mesh = item["mesh"]?.stringValue else { return nil }
            return ConfigurationLayout.meshPolicyKey(type: type, mesh: mesh, name: itemName)
        default:
            guard let id = item["id"]?.stringValue, !id.isEmpty else { return nil }
            return id
        }
    }

    /// A Mesh policy's key.
    public static func meshPolicyKey(type: String, mesh: String, name: String) -> String { "\(type) \(mesh) \(name)" }

    /// The item for `json` in `collection`: its key and canonical bytes; an error naming what is wrong.
    public func item(_ json: JSON, in collection: String) throws(ConfigurationError) -> ConfigurationItem {
        guard contains(collection: collection) else {
            throw ConfigurationError("\(collection) is not a collection of a \(name) configuration")
        }
        guard case .object = json else {
            throw ConfigurationError("an item of \(collection) is a \(json.typeName), not an object")
        }
        guard let key = key(of: json, in: collection) else {
            throw ConfigurationError("an item of \(collection) has no \(name == "mesh" ? "type, mesh or name" : "id")")
        }
        return ConfigurationItem(id: ConfigurationItemID(collection: collection, key: key), bytes: json.canonicalBytes)
    }

    /// The items of a whole configuration document (`{"services": [...], ...}`); members other than the
    /// collections are not items. An error names the first item that is not one.
    public func items(of body: JSON) throws(ConfigurationError) -> [ConfigurationItem] {
        guard case .object(let object) = body else {
            throw ConfigurationError("a \(name) configuration is a \(body.typeName), not an object")
        }
        var items: [ConfigurationItem] = []
        for collection in collections {
            guard let value = object[collection] else { continue }
            guard case .array(let elements) = value else {
                throw ConfigurationError("\(collection) is a \(value.typeName), not an array")
            }
            for element in elements { items.append(try item(element, in: collection)) }
        }
        return items
    }
}
