/// What a geo sends the auth node to resolve a bearer token (`POST /internal/v1/introspect`, T5).
public struct IntrospectionRequest: Sendable, Hashable {
    public var token: String

    public init(token: String) { self.token = token }

    public var json: JSON { ["token": .string(token)] }

    public init(json: JSON) throws(ContractError) {
        self = try decodeContract("introspection request", json) { reader in
            reader.string("token", required: true, nullable: false, minLength: 1, maxLength: 1024).map {
                IntrospectionRequest(token: $0)
            }
        }
    }
}

/// The auth node's answer to an introspection: who is calling, in which organization, with which
/// roles, the calendar's moment, and the organization's licenses (which the geo passes on to data
/// planes and zones, P4). Only tokens of active organizations get this answer; others get a 401.
public struct Introspection: Sendable, Hashable {
    public struct User: Sendable, Hashable {
        public var id: String
        public var email: String
        public var fullName: String

        public init(id: String, email: String, fullName: String) {
            self.id = id
            self.email = email
            self.fullName = fullName
        }
    }

    public struct Organization: Sendable, Hashable {
        public var id: String
        public var name: String
        public var state: OrganizationState
        public var plan: PlanKind
        public var ownerID: String
        public var homeGeo: String

        public init(
            id: String, name: String, state: OrganizationState, plan: PlanKind, ownerID: String, homeGeo: String
        ) {
            self.id = id
            self.name = name
            self.state = state
            self.plan = plan
            self.ownerID = ownerID
            self.homeGeo = homeGeo
        }
    }

    public enum TokenKind: String, Sendable, Hashable, CaseIterable {
        case session
        case personalAccessToken = "personal_access_token"
    }

    public var user: User
    public var organization: Organization
    public var roles: [RoleAssignment]
    public var tokenKind: TokenKind
    /// The calendar's moment when the auth node answered.
    public var now: SimTime
    /// The Kong Gateway Enterprise license (null once licenses ended).
    public var gatewayLicense: JSON
    /// The Kong Mesh license (null once licenses ended).
    public var meshLicense: JSON

    public init(
        user: User, organization: Organization, roles: [RoleAssignment], tokenKind: TokenKind, now: SimTime,
        gatewayLicense: JSON, meshLicense: JSON
    ) {
        self.user = user
        self.organization = organization
        self.roles = roles
        self.tokenKind = tokenKind
        self.now = now
        self.gatewayLicense = gatewayLicense
        self.meshLicense = meshLicense
    }

    public var json: JSON {
        [
            "user": ["id": .string(user.id), "email": .string(user.email), "full_name": .string(user.fullName)],
            "organization": [
                "id": .string(organization.id), "name": .string(organization.name),
                "state": .string(organization.state.rawValue), "plan": .string(organization.plan.rawValue),
                "owner_id": .string(organization.ownerID), "home_geo": .string(organization.homeGeo),
            ],
            "roles": .array(roles.map(\.json)),
            "token_kind": .string(tokenKind.rawValue),
            "now": .string(now.iso8601),
            "gateway_license": gatewayLicense,
            "mesh_license": meshLicense,
        ]
    }

    public init(json: JSON) throws(ContractError) {
        self = try decodeContract("introspection answer", json) { reader in
            var user: User? = nil
            if var nested = reader.nested("user", required: true) {
                let id = nested.text("id")
                let email = nested.text("email")
                let fullName = nested.string("full_name", required: true, nullable: false, maxLength: 1024)
                if let id, let email, let fullName { user = User(id: id, email: email, fullName: fullName) }
                reader.absorb(nested, strict: false)
            }
            var organization: Organization? = nil
            if var nested = reader.nested("organization", required: true) {
                let id = nested.text("id")
                let name = nested.string("name", required: true, nullable: false, maxLength: 1024)
                let state = nested.string(
                    "state", required: true, nullable: false, allowed: OrganizationState.allCases.map(\.rawValue))
                let plan = nested.string(
                    "plan", required: true, nullable: false, allowed: PlanKind.allCases.map(\.rawValue))
                let owner = nested.text("owner_id")
                let home = nested.text("home_geo")
                if let id, let name, let state = state.flatMap(OrganizationState.init(rawValue:)),
                    let plan = plan.flatMap(PlanKind.init(rawValue:)), let owner, let home
                {
                    organization = Organization(
                        id: id, name: name, state: state, plan: plan, ownerID: owner, homeGeo: home)
                }
                reader.absorb(nested, strict: false)
            }
            var roles: [RoleAssignment] = []
            if let items = reader.raw("roles") {
                guard case .array(let array) = items else {
                    reader.fail("roles", "is_array", "must be an array, got \(items.typeName)")
                    return nil
                }
                for (position, item) in array.enumerated() {
                    guard let role = RoleAssignment(json: item) else {
                        reader.fail("roles[\(position)]", "invalid", "must have role_name and entity_type_name")
                        return nil
                    }
                    roles.append(role)
                }
            } else {
                reader.fail("roles", "required", "is required")
            }
            let kind = reader.string(
                "token_kind", required: true, nullable: false, allowed: TokenKind.allCases.map(\.rawValue))
            let now = reader.moment("now")
            let gateway = reader.any("gateway_license")
            let mesh = reader.any("mesh_license")
            guard let user, let organization, let kind = kind.flatMap(TokenKind.init(rawValue:)), let now, let gateway,
                let mesh
            else { return nil }
            return Introspection(
                user: user, organization: organization, roles: roles, tokenKind: kind, now: now,
                gatewayLicense: gateway, meshLicense: mesh)
        }
    }
}
