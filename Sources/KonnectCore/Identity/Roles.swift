/// A role held by a user (directly or through a team) in one organization (A4), in Konnect's
/// assigned-role shape: a role name on an entity type, for one entity or all (`*`), in one geo or all.
public struct RoleAssignment: Sendable, Hashable {
    public var roleName: String
    public var entityTypeName: String
    /// A specific entity id, or `*` for every entity of the type.
    public var entityID: String
    /// A geo code, or `*` for every geo.
    public var entityRegion: String

    public init(roleName: String, entityTypeName: String, entityID: String = "*", entityRegion: String = "*") {
        self.roleName = roleName
        self.entityTypeName = entityTypeName
        self.entityID = entityID
        self.entityRegion = entityRegion
    }

    public func applies(toRegion geo: String) -> Bool { entityRegion == "*" || entityRegion == geo }

    public var json: JSON {
        [
            "role_name": .string(roleName), "entity_type_name": .string(entityTypeName),
            "entity_id": .string(entityID), "entity_region": .string(entityRegion),
        ]
    }

    public init?(json: JSON) {
        guard let role = json["role_name"]?.stringValue, let type = json["entity_type_name"]?.stringValue else {
            return nil
        }
        self.init(
            roleName: role, entityTypeName: type, entityID: json["entity_id"]?.stringValue ?? "*",
            entityRegion: json["entity_region"]?.stringValue ?? "*")
    }
}

/// The predefined roles (A4) and what they allow. Konnect names roles per entity type; the domain's
/// four named roles map onto them:
/// Organization Admin = `Admin` on `Organization`, Control Plane Admin = `Admin` on `Control Planes`,
/// Control Plane Viewer = `Viewer` on `Control Planes`, Billing Admin = `Admin` on `Billing`.
public enum RoleCatalog {
    public static let organization = "Organization"
    public static let billing = "Billing"
    public static let controlPlanes = "Control Planes"
    public static let meshControlPlanes = "Mesh Control Planes"
    public static let portals = "Portals"

    /// Entity type → role names that may be assigned on it.
    public static let rolesByEntityType:
        [(type: String, key: String, roles: [(key: String, name: String, description: String)])] = [
            (
                organization, "organization",
                [
                    (
                        "admin", "Admin",
                        "Organization Admin: full access to every entity, user, team, role and setting of the organization."
                    )
                ]
            ),
            (
                billing, "billing",
                [("admin", "Admin", "Billing Admin: reads usage and invoices and manages the payment method.")]
            ),
            (
                controlPlanes, "control_planes",
                [
                    ("admin", "Admin", "This role grants full write access to all entities within a control plane."),
                    (
                        "creator", "Creator",
                        "Creates a new Control Plane in an organization. The creator becomes the owner of the Control Plane they create."
                    ),
                    ("viewer", "Viewer", "This role grants read only access to all entities within a control plane."),
                ]
            ),
            (
                meshControlPlanes, "mesh_control_planes",
                [
                    ("admin", "Admin", "This role grants full write access to the related to Mesh control planes."),
                    (
                        "connector", "Connector",
                        "This role grants a mesh zone to connect to the mesh control plane in Konnect."
                    ),
                    ("creator", "Creator", "This role grants access to create new Mesh control planes."),
                    ("viewer", "Viewer", "This role grants access to read-only permissions to Mesh control planes."),
                ]
            ),
            (
                portals, "portals",
                [
                    ("admin", "Admin", "Full write access to Dev Portals."),
                    ("viewer", "Viewer", "Read-only access to Dev Portals."),
                ]
            ),
        ]

    public static let regions = ["us", "eu", "au", "me", "in", "sg"]

    /// Why an assignment cannot be made, or nil.
    public static func problem(with assignment: RoleAssignment) -> InvalidParameter? {
        guard let entry = rolesByEntityType.first(where: { $0.type == assignment.entityTypeName }) else {
            return InvalidParameter(
                field: "entity_type_name", rule: "enum",
                reason: "must be one of \(rolesByEntityType.map(\.type).joined(separator: ", "))",
                choices: rolesByEntityType.map(\.type))
        }
        guard entry.roles.contains(where: { $0.name == assignment.roleName }) else {
            return InvalidParameter(
                field: "role_name", rule: "enum",
                reason: "must be one of \(entry.roles.map(\.name).joined(separator: ", ")) for \(entry.type)",
                choices: entry.roles.map(\.name))
        }
        guard assignment.entityRegion == "*" || regions.contains(assignment.entityRegion) else {
            return InvalidParameter(
                field: "entity_region", rule: "enum",
                reason: "must be one of \((regions + ["*"]).joined(separator: ", "))", choices: regions + ["*"])
        }
        return nil
    }

    /// `GET /v3/roles`.
    public static var json: JSON {
        var object = JSONObject()
        for entry in rolesByEntityType {
            var roles = JSONObject()
            for role in entry.roles {
                roles[role.key] = ["name": .string(role.name), "description": .string(role.description)]
            }
            object[entry.key] = ["name": .string(entry.type), "roles": .object(roles)]
        }
        return .object(object)
    }

    public static let organizationAdmin = RoleAssignment(roleName: "Admin", entityTypeName: organization)
}

/// What a set of role assignments allows in one geo: the one place authorization decisions are made.
public struct Permissions: Sendable {
    public let assignments: [RoleAssignment]

    public init(_ assignments: [RoleAssignment]) { self.assignments = assignments }

    public var isOrganizationAdmin: Bool {
        assignments.contains { $0.entityTypeName == RoleCatalog.organization && $0.roleName == "Admin" }
    }

    public var canManageBilling: Bool {
        isOrganizationAdmin
            || assignments.contains { $0.entityTypeName == RoleCatalog.billing && $0.roleName == "Admin" }
    }

    private func holds(_ type: String, _ roles: Set<String>, geo: String, entity: String?) -> Bool {
        assignments.contains { assignment in
            assignment.entityTypeName == type && roles.contains(assignment.roleName)
                && assignment.applies(toRegion: geo)
                && (assignment.entityID == "*" || (entity != nil && assignment.entityID == entity))
        }
    }

    /// Creating control planes in a geo.
    public func canCreateControlPlanes(geo: String) -> Bool {
        isOrganizationAdmin || holds(RoleCatalog.controlPlanes, ["Admin", "Creator"], geo: geo, entity: nil)
    }

    /// Changing a control plane (nil: any) and its entities.
    public func canWriteControlPlane(_ id: String?, geo: String) -> Bool {
        isOrganizationAdmin || holds(RoleCatalog.controlPlanes, ["Admin"], geo: geo, entity: id)
    }

    /// Reading a control plane and its entities.
    public func canReadControlPlane(_ id: String?, geo: String) -> Bool {
        canWriteControlPlane(id, geo: geo)
            || holds(RoleCatalog.controlPlanes, ["Viewer", "Admin"], geo: geo, entity: id)
    }

    /// Whether any control plane of the geo may be listed (the list then shows only readable ones).
    public func canListControlPlanes(geo: String) -> Bool {
        isOrganizationAdmin
            || assignments.contains { $0.entityTypeName == RoleCatalog.controlPlanes && $0.applies(toRegion: geo) }
    }

    /// Changing a Mesh global control plane (nil: creating one; Creator may only create).
    public func canWriteMesh(_ id: String?, geo: String) -> Bool {
        isOrganizationAdmin
            || holds(RoleCatalog.meshControlPlanes, id == nil ? ["Admin", "Creator"] : ["Admin"], geo: geo, entity: id)
    }

    public func canReadMesh(_ id: String?, geo: String) -> Bool {
        canWriteMesh(id, geo: geo)
            || holds(RoleCatalog.meshControlPlanes, ["Viewer", "Connector", "Creator"], geo: geo, entity: id)
    }

    public func canWritePortals(geo: String) -> Bool {
        isOrganizationAdmin || holds(RoleCatalog.portals, ["Admin"], geo: geo, entity: nil)
    }

    public func canReadPortals(geo: String) -> Bool {
        canWritePortals(geo: geo) || holds(RoleCatalog.portals, ["Viewer"], geo: geo, entity: nil)
    }
}
