import KonnectCore
import KonnectHTTP
import KonnectSecurity

/// Invitations (A2, A4): an admin invites by email (one pending invite per email), lists and revokes
/// pending invites; the invitee joins with the invite token.
struct InviteRoutes: Sendable {
    let db: AuthDatabase
    let clock: CalendarClock
    let principals: PrincipalResolver
    let invites: InviteStore
    let users: UserStore
    let memberships: MembershipStore
    let organizations: OrganizationStore
    /// What user answers show as `inferred_region` (the cluster's first geo).
    let inferredRegion: String

    var routes: [Router.Route] {
        [
            Router.route("GET", "/v3/invites", list),
            Router.route("POST", "/v3/invites", invite),
            Router.route("DELETE", "/v3/invites/{inviteId}", revoke),
            Router.route("POST", "/v3/invites/accept", accept),
        ]
    }

    /// `POST /v3/invites`: the simulator has no mail, so the answer carries the invite token.
    func invite(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try principals.principal(request)
        try principal.requireAdmin()
        var reader = try ObjectReader(request.json())
        let email = reader.string(
            "email", required: true, nullable: false, minLength: 3, maxLength: EmailAddress.maximumLength,
            validate: EmailAddress.problem)
        try reader.finish()
        guard let email else { throw APIError.badRequest("Invalid request") }
        let key = EmailAddress.canonical(email)
        let token = Secrets.token(prefix: "kinv_")
        let now = clock.now
        let created = try db.write { work -> InviteRecord in
            if try memberships.hasMember(work.tx, organizationID: principal.organizationID, emailKey: key) {
                throw APIError.conflict("\(email) is already a member of this organization")
            }
            return try invites.create(
                work, organizationID: principal.organizationID, email: email, emailKey: key,
                tokenHash: Secrets.sha256Hex(token), invitedBy: principal.userID, at: now)
        }
        var body = created.json
        body["invite_token"] = .string(token)
        return HTTPResponse.json(body, status: 201)
    }

    /// `GET /v3/invites`: the organization's pending invites (Organization Admin).
    func list(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try principals.principal(request)
        try principal.requireAdmin()
        let page = try PageRequest(request)
        let pending = try db.read { tx in try invites.pending(tx, organizationID: principal.organizationID) }
        return page.response(pending.map(\.json))
    }

    /// `DELETE /v3/invites/{inviteId}`: revokes a pending invite; its token no longer works.
    func revoke(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try principals.principal(request)
        try principal.requireAdmin()
        let id = request.parameter("inviteId")
        try AuthProblem.requireUUID(id, field: "inviteId")
        let now = clock.now
        let revoked = try db.write { work in
            try invites.revoke(work, id: id, organizationID: principal.organizationID, at: now)
        }
        guard revoked else { throw APIError.notFound("No pending invite \(id) in this organization") }
        return .noContent
    }

    /// `POST /v3/invites/accept`: the invitee joins, creating their account (with a password) if needed.
    func accept(_ request: APIRequest) throws -> HTTPResponse {
        var reader = try ObjectReader(request.json())
        let token = reader.string("invite_token", required: true, nullable: false, maxLength: 128)
        let password = reader.string(
            "password", required: true, nullable: false, maxLength: PasswordPolicy.maximumLength)
        let fullName = reader.string("full_name", minLength: 1, maxLength: 250)
        try reader.finish()
        guard let token, let password else { throw APIError.badRequest("Invalid request") }
        let (invite, state) = try db.read { tx -> (InviteRecord?, OrganizationState?) in
            guard let invite = try invites.pending(tx, tokenHash: Secrets.sha256Hex(token)) else { return (nil, nil) }
            return (invite, try organizations.organization(tx, id: invite.organizationID)?.state)
        }
        guard let invite else {
            throw APIError(
                status: 401, title: "Unauthenticated",
                detail: "The invite token is unknown, was already used or was revoked")
        }
        let organizationState = state ?? .deleted
        guard organizationState == .active else {
            throw AuthProblem.organizationDeactivated(invite.organizationID, state: organizationState)
        }
        let existing = try db.read { tx in try users.user(tx, emailKey: invite.emailKey) }
        var hash = ""
        if let existing {
            guard PasswordHasher.verify(password, hash: existing.passwordHash) else {
                throw APIError(
                    status: 401, title: "Unauthenticated",
                    detail: "An account with this email exists; give its password to accept")
            }
        } else {
            let violations = PasswordPolicy.violations(password)
            guard violations.isEmpty else { throw AuthProblem.passwordPolicy(violations) }
            guard fullName != nil else {
                throw APIError.invalid(
                    field: "full_name", rule: "required", reason: "is required to create the account")
            }
            hash = PasswordHasher.hash(password)
        }
        let now = clock.now
        let user = try db.write { work -> UserRecord? in
            let userID: String
            if let existing {
                userID = existing.id
                try users.activate(work, id: userID)
            } else {
                guard
                    let created = try users.create(
                        work, email: invite.email, emailKey: invite.emailKey, fullName: fullName ?? "",
                        passwordHash: hash, at: now)
                else { throw IdentityRoutes.emailTaken(invite.email) }
                userID = created.id
            }
            guard try invites.accept(work, id: invite.id, at: now) else {
                throw APIError.conflict("The invite was accepted meanwhile")
            }
            try memberships.ensure(work, organizationID: invite.organizationID, userID: userID, at: now)
            return try users.user(work.tx, id: userID)
        }
        guard let user else { throw APIError.notFound("The user was not found") }
        return HTTPResponse.json(
            ["user": user.json(inferredRegion: inferredRegion), "organization_id": .string(invite.organizationID)],
            status: 201)
    }
}
