import KonnectCore
import KonnectHTTP
import KonnectSecurity

/// Invitations (A2, A4): an admin invites by email, the invitee joins with the invite token.
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
            Router.route("POST", "/v3/invites", invite),
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
        let id = try db.write { work -> String in
            if try memberships.hasMember(work.tx, organizationID: principal.organizationID, emailKey: key) {
                throw APIError.conflict("\(email) is already a member of this organization")
            }
            return try invites.create(
                work, organizationID: principal.organizationID, email: email, emailKey: key,
                tokenHash: Secrets.sha256Hex(token), invitedBy: principal.userID, at: now)
        }
        return HTTPResponse.json(
            [
                "id": .string(id), "email": .string(email), "organization_id": .string(principal.organizationID),
                "invite_token": .string(token), "created_at": now.json,
            ], status: 201)
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
                status: 401, title: "Unauthenticated", detail: "The invite token is unknown or was already used")
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
