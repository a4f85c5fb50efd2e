/// What a geo asks the auth node when a member whose roles let them create control planes in the geo
/// only through `Creator` creates one (`POST /internal/v1/creator-roles`, A4): make them that control
/// plane's `Admin`, in that geo only, as Konnect does ("the creator becomes the owner of the Control
/// Plane they create"). The geo asks before it creates the control plane, so a control plane never
/// exists without its creator's role; the same request again changes nothing.
public struct CreatorRoleRequest: Sendable, Hashable {
    public var organizationID: String
    public var userID: String
    /// The id the geo reserved for the control plane it is about to create.
    public var controlPlaneID: String
    public var geo: String

    public init(organizationID: String, userID: String, controlPlaneID: String, geo: String) {
        self.organizationID = organizationID
        self.userID = userID
        self.controlPlaneID = controlPlaneID
        self.geo = geo
    }

    /// The role the creator receives.
    public var assignment: RoleAssignment {
        RoleAssignment(
            roleName: "Admin", entityTypeName: RoleCatalog.controlPlanes, entityID: controlPlaneID, entityRegion: geo)
    }

    public var json: JSON {
        [
            "organization_id": .string(organizationID), "user_id": .string(userID),
            "control_plane_id": .string(controlPlaneID), "geo": .string(geo),
        ]
    }

    public init(json: JSON) throws(ContractError) {
        self = try decodeContract("creator role request", json) { reader in
            let organization = reader.text("organization_id", maxLength: 64)
            let user = reader.text("user_id", maxLength: 64)
            let controlPlane = reader.text("control_plane_id", maxLength: 64)
            let geo = reader.string("geo", required: true, nullable: false, allowed: RoleCatalog.regions)
            guard let organization, let user, let controlPlane, let geo else { return nil }
            return CreatorRoleRequest(
                organizationID: organization, userID: user, controlPlaneID: controlPlane, geo: geo)
        }
    }
}

/// The auth node's answer: the assignment that now exists (new, or there already).
public struct CreatorRoleReceipt: Sendable, Hashable {
    public var assignmentID: String
    public var role: RoleAssignment
    /// False when the same request had already recorded it.
    public var created: Bool

    public init(assignmentID: String, role: RoleAssignment, created: Bool) {
        self.assignmentID = assignmentID
        self.role = role
        self.created = created
    }

    public var json: JSON {
        ["assignment_id": .string(assignmentID), "role": role.json, "created": .bool(created)]
    }

    public init(json: JSON) throws(ContractError) {
        self = try decodeContract("creator role receipt", json) { reader in
            let id = reader.text("assignment_id", maxLength: 64)
            let created = reader.bool("created", required: true, nullable: false)
            guard let roleJSON = reader.any("role") else { return nil }
            guard let role = RoleAssignment(json: roleJSON) else {
                reader.fail("role", "invalid", "must be a role assignment with role_name and entity_type_name")
                return nil
            }
            guard let id, let created else { return nil }
            return CreatorRoleReceipt(assignmentID: id, role: role, created: created)
        }
    }
}
