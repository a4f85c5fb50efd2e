/// What a geo sends the auth node to resolve the bearer tokens of the API requests waiting on it
/// (`POST /internal/v1/introspect`, T5): at most `maximumTokens` distinct tokens, resolved in one read.
/// The answer is an `IntrospectionAnswers` with one answer per token, in the same order.
public struct IntrospectionRequest: Sendable, Hashable {
    /// The most tokens one ask carries (a geo batches at most this many waiting requests).
    public static let maximumTokens = 64
    /// The longest token the auth node reads.
    public static let maximumTokenLength = 1024

    public var tokens: [String]

    public init(tokens: [String]) { self.tokens = tokens }

    public var json: JSON { ["tokens": .strings(tokens)] }

    public init(json: JSON) throws(ContractError) {
        self = try decodeContract("introspection request", json) { reader -> IntrospectionRequest? in
            guard
                let tokens = reader.stringArray(
                    "tokens", required: true, nullable: false, maxItems: Self.maximumTokens,
                    maxLength: Self.maximumTokenLength, validate: { $0.isEmpty ? "must not be empty" : nil })
            else { return nil }
            guard !tokens.isEmpty else {
                reader.fail("tokens", "min_items", "must have at least 1 item", minimum: 1)
                return nil
            }
            return IntrospectionRequest(tokens: tokens)
        }
    }

    /// Why a bearer token cannot be asked about at all (empty or longer than `maximumTokenLength`):
    /// the 400 a request that carried it gets, the same whichever side notices.
    public static func problem(token: String) -> APIError? {
        if !token.isEmpty && token.utf8.count <= maximumTokenLength { return nil }
        do {
            _ = try decodeContract("introspection request", ["token": .string(token)]) { reader in
                reader.string(
                    "token", required: true, nullable: false, minLength: 1, maxLength: Self.maximumTokenLength)
            }
            return nil
        } catch {
            return error.apiError
        }
    }
}

/// The auth node's answers to an `IntrospectionRequest`, one per token in the order asked: who is
/// calling (an `Introspection`), or why the token is refused (the problem a request with it gets:
/// status, title, detail and members such as `reason`).
public struct IntrospectionAnswers: Sendable, Equatable {
    public enum Answer: Sendable, Equatable {
        case introspection(Introspection)
        case refused(APIError)
    }

    public var answers: [Answer]

    public init(answers: [Answer]) { self.answers = answers }

    public var json: JSON {
        [
            "answers": .array(
                answers.map { answer in
                    switch answer {
                    case .introspection(let introspection): ["introspection": introspection.json]
                    case .refused(let problem): ["refused": Self.json(problem)]
                    }
                })
        ]
    }

    public init(json: JSON) throws(ContractError) {
        self = try decodeContract("introspection answers", json) { reader -> IntrospectionAnswers? in
            guard let items = reader.raw("answers") else {
                reader.fail("answers", "required", "is required")
                return nil
            }
            guard case .array(let array) = items else {
                reader.fail("answers", "is_array", "must be an array, got \(items.typeName)")
                return nil
            }
            var answers: [Answer] = []
            for (position, item) in array.enumerated() {
                if let introspection = item["introspection"] {
                    do throws(ContractError) {
                        answers.append(.introspection(try Introspection(json: introspection)))
                    } catch {
                        for problem in error.problems {
                            reader.fail(
                                "answers[\(position)].introspection.\(problem.field)", problem.rule, problem.reason)
                        }
                    }
                } else if let refused = item["refused"], let problem = Self.problem(refused) {
                    answers.append(.refused(problem))
                } else {
                    reader.fail(
                        "answers[\(position)]", "invalid",
                        "must hold an introspection or a refusal with status, title and detail")
                }
            }
            return answers.count == array.count ? IntrospectionAnswers(answers: answers) : nil
        }
    }

    /// A refusal on the wire: status, title, detail and the extra members (invalid parameters are not carried).
    private static func json(_ problem: APIError) -> JSON {
        var body = JSONObject([
            ("status", .int(problem.status)), ("title", .string(problem.title)), ("detail", .string(problem.detail)),
        ])
        for (key, value) in problem.extra { body[key] = value }
        return .object(body)
    }

    private static func problem(_ json: JSON) -> APIError? {
        guard case .object(let body) = json, let status = body["status"]?.intValue, (400...599).contains(status),
            let title = body["title"]?.stringValue, let detail = body["detail"]?.stringValue
        else { return nil }
        var extra = JSONObject()
        for (key, value) in body where !["status", "title", "detail"].contains(key) { extra[key] = value }
        return APIError(status: Int(status), title: title, detail: detail, extra: extra)
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
