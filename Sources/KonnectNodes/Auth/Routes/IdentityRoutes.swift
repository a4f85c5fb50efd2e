import KonnectCore
import KonnectHTTP
import KonnectSecurity

/// Signup, login, the caller's account and the organization's members (A1-A3, D1).
struct IdentityRoutes: Sendable {
    let db: AuthDatabase
    let clock: CalendarClock
    let principals: PrincipalResolver
    let users: UserStore
    let memberships: MembershipStore
    let organizations: OrganizationStore
    let sessions: SessionStore
    let accessTokens: AccessTokenStore
    let teams: TeamStore
    let roles: RoleAssignmentStore
    let emailLocks: EmailLockStore
    let members: MemberLookup
    let provisioning: OrganizationProvisioning
    let transitions: OrganizationTransitions
    let geos: [String]
    /// Failed logins per email and per client (429 past the limits).
    let logins: LoginGuard

    /// Sessions last one calendar day.
    static let sessionLifetime = SimDuration.days(1)

    /// A valid yescrypt hash of a random password, verified against when the email is unknown so that
    /// both answers take the same time.
    static let decoyHash = PasswordHasher.hash(Secrets.token(prefix: ""))

    var routes: [Router.Route] {
        [
            Router.route("POST", "/v3/signup", signup),
            Router.route("POST", "/v3/authenticate", authenticate),
            Router.route("GET", "/v3/users/me", me),
            Router.route("DELETE", "/v3/users/me", deleteMyAccount),
            Router.route("GET", "/v3/users", listUsers),
            Router.route("GET", "/v3/users/{userId}", getUser),
            Router.route("DELETE", "/v3/users/{userId}", removeUser),
        ]
    }

    var inferredRegion: String { geos.first ?? "us" }

    /// `POST /v3/signup`: a user and their organization (A1, A2, P1, P3).
    func signup(_ request: APIRequest) throws -> HTTPResponse {
        var reader = try ObjectReader(request.json())
        let email = reader.string(
            "email", required: true, nullable: false, minLength: 3, maxLength: EmailAddress.maximumLength,
            validate: EmailAddress.problem)
        let password = reader.string(
            "password", required: true, nullable: false, maxLength: PasswordPolicy.maximumLength)
        let fullName = reader.string("full_name", required: true, nullable: false, minLength: 1, maxLength: 250)
        let name = reader.string("organization_name", required: true, nullable: false, minLength: 1, maxLength: 250)
        let plan =
            reader.string("plan", nullable: false, allowed: PlanKind.allCases.map(\.rawValue)).flatMap(
                PlanKind.init(rawValue:)) ?? .plus
        let geo = reader.string("geo", required: true, nullable: false, allowed: geos)
        try reader.finish()
        guard let email, let password, let fullName, let name, let geo else {
            throw APIError.badRequest("Invalid request")
        }
        let violations = PasswordPolicy.violations(password)
        guard violations.isEmpty else { throw AuthProblem.passwordPolicy(violations) }
        let key = EmailAddress.canonical(email)
        let (existing, locked) = try db.read { tx in
            (try users.user(tx, emailKey: key), try emailLocks.isLocked(tx, emailKey: key))
        }
        if locked { throw AuthProblem.emailLocked(key) }
        if let existing {
            // An identity is independent of organizations (A2): the same person may open another
            // organization by proving the password; anyone else gets 409.
            guard PasswordHasher.verify(password, hash: existing.passwordHash) else {
                throw IdentityRoutes.emailTaken(email)
            }
        }
        let hash = existing == nil ? PasswordHasher.hash(password) : ""
        let now = clock.now
        let (user, organization) = try db.write { work -> (UserRecord?, OrganizationRecord?) in
            if try emailLocks.isLocked(work.tx, emailKey: key) { throw AuthProblem.emailLocked(email) }
            let userID: String
            if let existing {
                userID = existing.id
                try users.activate(work, id: userID, at: now)
            } else {
                guard
                    let created = try users.create(
                        work, email: email, emailKey: key, fullName: fullName, passwordHash: hash, at: now)
                else { throw IdentityRoutes.emailTaken(email) }
                userID = created.id
            }
            let organizationID = try provisioning.create(
                work, name: name, plan: plan, geo: geo, ownerID: userID, actor: "user:\(userID)", at: now)
            return (try users.user(work.tx, id: userID), try organizations.organization(work.tx, id: organizationID))
        }
        guard let user, let organization else { throw APIError.notFound("The new account was not found") }
        Log.info("signup: user \(user.id) created organization \(organization.id) (\(plan.rawValue), \(geo))")
        return HTTPResponse.json(
            ["user": user.json(inferredRegion: inferredRegion), "organization": organization.json], status: 201)
    }

    static func emailTaken(_ email: String) -> APIError {
        APIError.conflict("An account with email \(email) already exists; log in with POST /v3/authenticate")
    }

    /// `POST /v3/authenticate`: a session bound to one organization (A3). Wrong credentials never say
    /// whether the email exists; repeated failures are throttled per email and per client (`LoginGuard`).
    func authenticate(_ request: APIRequest) throws -> HTTPResponse {
        do {
            return try authenticateOnce(request)
        } catch let error as APIError where error.status == 429 {
            var response = HTTPResponse.json(
                error.problem(instance: request.traceID), status: 429, contentType: "application/problem+json")
            response.headers.set("Retry-After", error.extra["retry_after"]?.intValue.map { String($0) } ?? "1")
            return response
        }
    }

    private func authenticateOnce(_ request: APIRequest) throws -> HTTPResponse {
        var reader = try ObjectReader(request.json())
        let email = reader.string("email", required: true, nullable: false, maxLength: EmailAddress.maximumLength)
        let password = reader.string(
            "password", required: true, nullable: false, maxLength: PasswordPolicy.maximumLength)
        let requested = reader.string("organization_id", maxLength: 64)
        try reader.finish()
        guard let email, let password else { throw APIError.badRequest("Invalid request") }
        let invalid = APIError(status: 401, title: "Unauthenticated", detail: "Invalid email or password")
        let key = EmailAddress.canonical(email)
        try logins.admit(email: key, request)
        let user = try db.read { tx in try users.user(tx, emailKey: key) }
        let verified = PasswordHasher.verify(password, hash: user?.passwordHash ?? IdentityRoutes.decoyHash)
        guard let user, verified, user.active else {
            logins.failed(email: key, request)
            throw invalid
        }
        logins.succeeded(email: key, request)

        let candidates = try db.read { tx in try memberships.organizations(tx, userID: user.id) }
        let chosen = try IdentityRoutes.organization(for: user.email, among: candidates, requested: requested)
        guard chosen.state == .active else { throw AuthProblem.organizationDeactivated(chosen.id, state: chosen.state) }
        let token = Secrets.token(prefix: "kses_")
        let now = clock.now
        let expires = now + IdentityRoutes.sessionLifetime
        try db.write { work in
            try sessions.create(
                work, tokenHash: Secrets.sha256Hex(token), userID: user.id, organizationID: chosen.id, at: now,
                expiresAt: expires)
            // Logins are what keeps a free organization active (D2).
            try organizations.recordLogin(work, id: chosen.id, at: now)
        }
        return HTTPResponse.json([
            "access_token": .string(token), "token_type": "Bearer",
            "expires_in": .int(IdentityRoutes.sessionLifetime.seconds),
            "expires_at": expires.json, "organization_id": .string(chosen.id), "user_id": .string(user.id),
        ])
    }

    /// The organization a login is for (A3), once the password is verified: the one asked for, which
    /// must be one of the user's; else the user's only organization, or the only active one among
    /// several. Several active ones need `organization_id` (400 listing them).
    static func organization(for email: String, among candidates: [OrganizationRecord], requested: String?)
        throws(APIError) -> OrganizationRecord
    {
        func listed(_ organizations: [OrganizationRecord]) -> JSON {
            .array(
                organizations.map {
                    ["id": .string($0.id), "name": .string($0.name), "state": .string($0.state.rawValue)]
                })
        }
        if let requested {
            guard let match = candidates.first(where: { $0.id == requested }) else {
                let yours = candidates.map { "\($0.name) (\($0.id))" }.joined(separator: ", ")
                throw APIError(
                    status: 401, title: "Not a Member",
                    detail:
                        "\(email) is not a member of organization \(requested.prefix(64)); \(candidates.isEmpty ? "it belongs to no organization" : "its organizations: \(yours)")",
                    extra: JSONObject([("reason", "not_a_member"), ("organizations", listed(candidates))]))
            }
            return match
        }
        let active = candidates.filter { $0.state == .active }
        if candidates.count == 1 { return candidates[0] }
        if active.count == 1 { return active[0] }
        if candidates.isEmpty {
            throw APIError(
                status: 401, title: "Unauthenticated",
                detail: "\(email) belongs to no organization any more; sign up to create one")
        }
        if active.isEmpty {
            // Every organization is deactivated or deleted: the most recent one says why.
            let latest = candidates[candidates.count - 1]
            throw AuthProblem.organizationDeactivated(latest.id, state: latest.state)
        }
        throw APIError(
            status: 400,
            detail:
                "You belong to \(active.count) active organizations; say which one with organization_id",
            invalidParameters: [
                InvalidParameter(
                    field: "organization_id", rule: "required",
                    reason: "is required when you belong to several active organizations")
            ],
            extra: JSONObject([("organizations", listed(candidates))]))
    }

    /// `GET /v3/users/me`: one read, the token and the account in the same snapshot.
    func me(_ request: APIRequest) throws -> HTTPResponse {
        guard let token = request.bearerToken else { throw AuthProblem.tokenMissing }
        let user = try db.read { tx -> Result<UserRecord?, APIError> in
            switch try principals.resolve(tx, token: token, withRoles: false) {
            case .success(let principal): .success(try users.user(tx, id: principal.userID))
            case .failure(let error): .failure(error)
            }
        }.get()
        guard let user else { throw APIError.notFound("The requested user was not found") }
        return HTTPResponse.json(user.json(inferredRegion: inferredRegion))
    }

    /// `DELETE /v3/users/me`: the owner closes the organization (D1); anyone else leaves it.
    func deleteMyAccount(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try principals.principal(request)
        let now = clock.now
        if principal.isOwner {
            let transition = try db.write { work -> LifecycleTransition in
                let transition = try transitions.deactivate(
                    work, organizationID: principal.organizationID, reason: .ownerDeletedAccount,
                    actor: "user:\(principal.userID)", at: now)
                let others = try memberships.otherOrganizationCount(
                    work.tx, userID: principal.userID, besides: principal.organizationID)
                if others == 0 { try users.deactivate(work, id: principal.userID, at: now) }
                return transition
            }
            Log.info(OrganizationTransitions.describe(transition, of: principal.organizationID))
        } else {
            try db.write { work in
                try removeMember(work, organizationID: principal.organizationID, userID: principal.userID, at: now)
            }
        }
        return .noContent
    }

    /// Removes a user from one organization: membership, teams, roles and tokens for it.
    private func removeMember(_ work: UnitOfWork, organizationID: String, userID: String, at moment: SimTime) throws {
        try memberships.remove(work, organizationID: organizationID, userID: userID)
        try teams.removeFromTeams(work, userID: userID, organizationID: organizationID)
        try roles.removeAll(work, of: .user(userID), organizationID: organizationID)
        try sessions.revoke(work, organizationID: organizationID, userID: userID)
        try accessTokens.revoke(work, organizationID: organizationID, userID: userID, at: moment)
    }

    func listUsers(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try principals.principal(request)
        let page = try PageRequest(request)
        var members = try db.read { tx in try memberships.members(tx, organizationID: principal.organizationID) }
        if let email = request.query("filter[email]") ?? request.query("filter[email][eq]") {
            members = members.filter { $0.email.lowercased() == email.lowercased() }
        }
        if let contains = request.query("filter[email][contains]") {
            members = members.filter { $0.email.lowercased().contains(contains.lowercased()) }
        }
        return page.response(members.map { $0.json(inferredRegion: inferredRegion) })
    }

    func getUser(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try principals.principal(request)
        let member = try self.member(principal, request.parameter("userId"))
        return HTTPResponse.json(member.json(inferredRegion: inferredRegion))
    }

    /// `DELETE /v3/users/{userId}`: an admin removes a member from the organization.
    func removeUser(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try principals.principal(request)
        try principal.requireAdmin()
        let userID = request.parameter("userId")
        _ = try member(principal, userID)
        guard userID != principal.ownerID else {
            throw APIError.conflict(
                "The owner cannot be removed; transfer ownership first or delete the account as the owner")
        }
        let now = clock.now
        try db.write { work in try removeMember(work, organizationID: principal.organizationID, userID: userID, at: now)
        }
        return .noContent
    }

    private func member(_ principal: Principal, _ userID: String) throws -> UserRecord {
        try members.member(principal, userID)
    }
}
