/// What a geo API path names: a collection or one object, of which kind, in which control plane.
struct ObjectPath: Equatable {
    enum Kind: String {
        case controlPlane = "control-planes"
        case portal = "portals"
        case service = "services"
        case route = "routes"
        case consumer = "consumers"
        case plugin = "plugins"
    }

    var kind: Kind
    /// The control plane the object lives in (the object itself for a control plane).
    var controlPlane: String?
    /// The object's id or name; nil for a collection.
    var key: String?

    /// Parses `/v2/control-planes[/{cp}[/core-entities/{kind}[/{id}][/{kind}[/{id}]]]]` and
    /// `/v2/portals[/{id}]`, ignoring the query; nil for anything else.
    static func parse(_ path: String) -> ObjectPath? {
        let withoutQuery = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let parts = withoutQuery.split(separator: "/").map(String.init)
        guard parts.count >= 2, parts[0] == "v2" else { return nil }
        switch parts[1] {
        case "portals":
            guard parts.count <= 3 else { return nil }
            return ObjectPath(kind: .portal, controlPlane: nil, key: parts.count == 3 ? parts[2] : nil)
        case "control-planes":
            if parts.count <= 3 {
                return ObjectPath(
                    kind: .controlPlane, controlPlane: parts.count == 3 ? parts[2] : nil,
                    key: parts.count == 3 ? parts[2] : nil)
            }
            guard parts[3] == "core-entities", parts.count >= 5 else { return nil }
            // The last collection named in the path is the kind: services/{id}/routes is a route collection.
            var kind: Kind? = nil
            var key: String? = nil
            var index = 4
            while index < parts.count {
                guard let named = Kind(rawValue: parts[index]), named != .controlPlane, named != .portal else {
                    return nil
                }
                kind = named
                key = index + 1 < parts.count ? parts[index + 1] : nil
                index += 2
            }
            return kind.map { ObjectPath(kind: $0, controlPlane: parts[2], key: key) }
        default:
            return nil
        }
    }

    /// The path that reads one object.
    static func itemPath(_ kind: Kind, id: String, controlPlane: String?) -> String {
        switch kind {
        case .controlPlane: "/v2/control-planes/\(id)"
        case .portal: "/v2/portals/\(id)"
        default: "/v2/control-planes/\(controlPlane ?? "")/core-entities/\(kind.rawValue)/\(id)"
        }
    }
}
