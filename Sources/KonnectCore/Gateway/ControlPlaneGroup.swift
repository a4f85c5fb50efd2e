/// One member of a control plane group with its configuration.
public struct GroupMemberConfiguration: Sendable, Hashable {
    public var controlPlaneID: String
    public var config: DeclarativeConfig

    public init(controlPlaneID: String, config: DeclarativeConfig) {
        self.controlPlaneID = controlPlaneID
        self.config = config
    }
}

/// An entity of one member that collides with an entity of another member (control-planes-v2's
/// `GroupConflict`): Konnect lists one entry per member involved.
public struct GroupConflict: Sendable, Hashable {
    public var controlPlaneID: String
    public var kind: GatewayEntityKind
    public var entityID: String
    public var name: String

    public var description: String { "conflicting entity found: ID=\(entityID), Name=\(name)" }

    public var json: JSON {
        [
            "cluster_id": .string(controlPlaneID), "description": .string(description),
            "resource": ["id": .string(entityID), "type": .string(kind.rawValue)],
        ]
    }
}

/// A control plane group (`CLUSTER_TYPE_CONTROL_PLANE_GROUP`): a read-only control plane whose data
/// planes receive the union of its members' configurations. Members are standard control planes of the
/// same organization and geo, each in at most one group. Entities of different members collide when
/// they share an id, a unique name (`name`, a consumer's `username` or `custom_id`, a plugin's
/// `instance_name`), or, for plugins, a name and scope (Kong allows one plugin of a name per service,
/// route and consumer); while any collide the group is in conflict and its data planes get no update
/// (Konnect: "The control plane won't send any config updates to its data plane nodes until conflicts are
/// resolved").
public enum ControlPlaneGroup {
    /// The most members a group may have (control-planes-v2 lists at most 256 conflicts).
    public static let maximumMembers = 256

    public struct Merged: Sendable, Hashable {
        public var config: DeclarativeConfig
        public var conflicts: [GroupConflict]
    }

    /// The union of the members' configurations, in member order, and every collision.
    public static func merge(_ members: [GroupMemberConfiguration]) -> Merged {
        var config = DeclarativeConfig()
        for member in members {
            config.services += member.config.services
            config.routes += member.config.routes
            config.consumers += member.config.consumers
            config.plugins += member.config.plugins
        }
        var conflicts: [GroupConflict] = []
        for kind in GatewayEntityKind.allCases {
            // For each key an entity claims, who claimed it first; a second member's claim collides.
            var claims: [String: GroupConflict] = [:]
            for member in members {
                for body in bodies(member.config, kind) {
                    let entity = GroupConflict(
                        controlPlaneID: member.controlPlaneID, kind: kind, entityID: body["id"]?.stringValue ?? "",
                        name: displayName(body, kind))
                    for key in keys(body, kind) {
                        if let first = claims[key] {
                            guard first.controlPlaneID != member.controlPlaneID else { continue }
                            for conflict in [first, entity] where !conflicts.contains(conflict) {
                                conflicts.append(conflict)
                            }
                        } else {
                            claims[key] = entity
                        }
                    }
                }
            }
        }
        return Merged(config: config, conflicts: conflicts)
    }

    static func bodies(_ config: DeclarativeConfig, _ kind: GatewayEntityKind) -> [JSON] {
        switch kind {
        case .service: config.services
        case .route: config.routes
        case .consumer: config.consumers
        case .plugin: config.plugins
        }
    }

    /// What an entity claims in the merged configuration: its id, its unique names, a plugin's scope.
    static func keys(_ body: JSON, _ kind: GatewayEntityKind) -> [String] {
        var keys: [String] = []
        if let id = body["id"]?.stringValue { keys.append("id:" + id) }
        let unique: [String] =
            switch kind {
            case .service, .route: ["name"]
            case .consumer: ["username", "custom_id"]
            case .plugin: ["instance_name"]
            }
        for field in unique {
            if let value = body[field]?.stringValue { keys.append(field + ":" + value) }
        }
        if kind == .plugin, let name = body["name"]?.stringValue {
            let scope = ["service", "route", "consumer"].map { body[$0]?["id"]?.stringValue ?? "*" }
            keys.append("plugin:" + ([name] + scope).joined(separator: "/"))
        }
        return keys
    }

    static func displayName(_ body: JSON, _ kind: GatewayEntityKind) -> String {
        let fields =
            switch kind {
            case .service, .route: ["name"]
            case .consumer: ["username", "custom_id"]
            case .plugin: ["instance_name", "name"]
            }
        return fields.lazy.compactMap { body[$0]?.stringValue }.first ?? ""
    }
}
