import KonnectCore
import KonnectHTTP
import KonnectSecurity
import KonnectStorage

/// Signup, login, the caller's account, members, personal access tokens and invites (A1-A3).
extension AuthNode {
    var identityRoutes: [Router.Route] {
        [
            Router.route("POST", "/v3/signup", signup),
            Router.route("POST", "/v3/authenticate", authenticate),
            Router.route("GET", "/v3/users/me") { request in
                let principal = try self.principal(request)
                return HTTPResponse.json(try self.userJSON(self.userRow(principal.userID)))
            },
            Router.route("DELETE", "/v3/users/me", deleteMyAccount),
            Router.route("GET", "/v3/users", listUsers),
            Router.route("GET", "/v3/users/{userId}", getUser),
            Router.route("DELETE", "/v3/users/{userId}", removeUser),
            Router.route("GET", "/v3/users/{userId}/access-tokens", listAccessTokens),
            Router.route("POST", "/v3/users/{userId}/access-tokens", createAccessToken),
            Router.route("GET", "/v3/users/{userId}/access-tokens/{tokenId}", getAccessToken),
            Router.route("DELETE", "/v3/users/{userId}/access-tokens/{tokenId}", deleteAccessToken),
            Router.route("POST", "/v3/invites", invite),
            Router.route("POST", "/v3/invites/accept", acceptInvite),
        ]
    }

    func userRow(_ id: String) throws -> Row {
        guard let row = try db.read({ db in try db.query("SELECT * FROM users WHERE id = ?", .text(id)).first }) else {
            throw APIError.notFound("The requested user was not found")
        }
        return row
    }

    private func newOrganizationReaders(_ reader: inout ObjectReader) -> (name: String?, plan: PlanKind?, geo: String?)
    {
        let name = reader.string("organization_name", required: true, nullable: false, minLength: 1, maxLength: 250)
        let plan =
            reader.string("plan", nullable: false, allowed: PlanKind.allCases.map(\.rawValue)).map {
                PlanKind(rawValue: $0)!
            } ?? .plus
        let geo = reader.string("geo", required: true, nullable: false, allowed: configuration.geos)
        return (name, plan, geo)
    }

    /// `POST /v3/signup`: a user and their organization (A1, A2, P1, P3).
    func signup(_ request: APIRequest) throws -> HTTPResponse {
        var reader = try ObjectReader(request.json())
        let email = reader.string(
            "email", required: true, nullable: false, minLength: 3, maxLength: EmailAddress.maximumLength,
            validate: EmailAddress.problem)
        let password = reader.string(
            "password", required: true, nullable: false, maxLength: PasswordPolicy.maximumLength)
        let fullName = reader.string("full_name", required: true, nullable: false, minLength: 1, maxLength: 250)
        let organization = newOrganizationReaders(&reader)
        try reader.finish()
        guard let email, let password, let fullName, let name = organization.name, let plan = organization.plan,
            let geo = organization.geo
        else {
            throw APIError.badRequest("Invalid request")
        }
        let violations = PasswordPolicy.violations(password)
        guard violations.isEmpty else {
            throw APIError(
                status: 422,
                detail:
                    "The password does not meet the password policy: \(violations.map(\.reason).joined(separator: "; "))",
                invalidParameters: violations.map {
                    InvalidParameter(field: "password", rule: $0.rule, reason: $0.reason)
                })
        }
        let key = EmailAddress.canonical(email)
        let existing = try db.read { db in try db.query("SELECT * FROM users WHERE email_key = ?", .text(key)).first }
        try ensureEmailNotLocked(key)
        if let existing {
            // An identity is independent of organizations (A2): the same person may open another
            // organization by proving the password; anyone else gets 409.
            guard PasswordHasher.verify(password, hash: existing.string("password_hash") ?? "") else {
                throw APIError.conflict(
                    "An account with email \(email) already exists; log in with POST /v3/authenticate")
            }
        }
        let hash = existing == nil ? PasswordHasher.hash(password) : ""
        let now = self.now
        let (user, org) = try db.write { db -> (Row, Row) in
            if try db.query("SELECT 1 FROM email_locks WHERE email_key = ?", .text(key)).first != nil {
                throw AuthNode.emailLocked(email)
            }
            let userID: String
            if let existing, let id = existing.string("id") {
                userID = id
                try db.execute("UPDATE users SET active = 1, updated_at = ? WHERE id = ?", .time(now), .text(id))
            } else {
                userID = try ids.next(db)
                do {
                    try db.execute(
                        "INSERT INTO users(id, email, email_key, full_name, password_hash, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
                        .text(userID), .text(email), .text(key), .text(fullName), .text(hash), .time(now), .time(now))
                } catch let error as DatabaseError where error.isConstraintViolation {
                    throw APIError.conflict(
                        "An account with email \(email) already exists; log in with POST /v3/authenticate")
                }
            }
            let orgID = try createOrganization(
                db, name: name, plan: plan, geo: geo, ownerID: userID, actor: "user:\(userID)", now: now)
            return (
                try db.single(
                    "SELECT * FROM users WHERE id = ?", .text(userID),
                    missing: APIError.notFound("The user was not found")),
                try db.single(
                    "SELECT * FROM organizations WHERE id = ?", .text(orgID),
                    missing: APIError.notFound("The organization was not found"))
            )
        }
        Log.info(
            "signup: user \(user.string("id") ?? "") created organization \(org.string("id") ?? "") (\(plan.rawValue), \(geo))"
        )
        return HTTPResponse.json(["user": userJSON(user), "organization": organizationJSON(org)], status: 201)
    }

    static func emailLocked(_ email: String) -> APIError {
        APIError(
            status: 409, title: "Email Locked",
            detail:
                "The email \(email) belongs to a deactivated organization and is locked; Kong Support can unlock it",
            extra: JSONObject([("reason", "email_locked")]))
    }

    private func ensureEmailNotLocked(_ key: String) throws {
        if try db.read({ db in try db.query("SELECT email FROM email_locks WHERE email_key = ?", .text(key)).first })
            != nil
        {
            throw AuthNode.emailLocked(key)
        }
    }

    /// Creates an organization with its owner, licenses, subscriptions, trial and history (A1, A2, P1, P3).
    func createOrganization(
        _ db: Transaction, name: String, plan: PlanKind, geo: String, ownerID: String, actor: String, now: SimTime
    ) throws -> String {
        let orgID = try ids.next(db)
        let card = configuration.rateCard
        let trialEnd: SimTime? = plan == .plus ? now + .days(card.trialDays) : nil
        try db.execute(
            """
            INSERT INTO organizations(id, name, owner_id, plan, home_geo, state, created_at, updated_at, retention_days,
                trial_ends_at, trial_closed, credits_granted, next_cycle, billing_from)
            VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, 0, ?)
            """, .text(orgID), .text(name), .text(ownerID), .text(plan.rawValue), .text(geo), .time(now), .time(now),
            .int(OrganizationLifecycle.defaultRetentionDays), .time(trialEnd), .bool(plan != .plus),
            .int(plan == .plus ? card.trialCredits.cents : 0), .time(now))
        try db.execute(
            "INSERT INTO memberships(org_id, user_id, created_at) VALUES (?, ?, ?)", .text(orgID), .text(ownerID),
            .time(now))
        try assignRole(db, organizationID: orgID, userID: ownerID, teamID: nil, RoleCatalog.organizationAdmin, now: now)
        for product in LicenseProduct.allCases {
            try db.execute(
                "INSERT INTO licenses(id, org_id, product, created_at) VALUES (?, ?, ?, ?)", .text(try ids.next(db)),
                .text(orgID),
                .text(product.rawValue), .time(now))
        }
        for subscription in PlanTerms.subscriptions(plan) {
            try db.execute(
                "INSERT INTO subscriptions(id, org_id, name, state, started_at) VALUES (?, ?, ?, 'active', ?)",
                .text(try ids.next(db)),
                .text(orgID), .text(subscription), .time(now))
        }
        try recordState(
            db, organizationID: orgID, StateChange(state: .active, reason: "created", actor: actor, at: now))
        return orgID
    }

    @discardableResult
    func assignRole(
        _ db: Transaction, organizationID: String, userID: String?, teamID: String?, _ role: RoleAssignment,
        now: SimTime
    ) throws -> String {
        let id = try ids.next(db)
        try db.execute(
            """
            INSERT INTO role_assignments(id, org_id, user_id, team_id, role_name, entity_type_name, entity_id, entity_region, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, .text(id), .text(organizationID), .optional(userID), .optional(teamID), .text(role.roleName),
            .text(role.entityTypeName), .text(role.entityID), .text(role.entityRegion), .time(now))
        return id
    }

    func recordState(_ db: Transaction, organizationID: String, _ change: StateChange) throws {
        try db.execute(
            "INSERT INTO state_history(org_id, state, reason, actor, at) VALUES (?, ?, ?, ?, ?)", .text(organizationID),
            .text(change.state.rawValue), .text(change.reason), .text(change.actor), .time(change.at))
    }

    /// `POST /v3/authenticate`: a session bound to one organization (A3). Wrong credentials never say
    /// whether the email exists.
    func authenticate(_ request: APIRequest) throws -> HTTPResponse {
        var reader = try ObjectReader(request.json())
        let email = reader.string("email", required: true, nullable: false, maxLength: EmailAddress.maximumLength)
        let password = reader.string(
            "password", required: true, nullable: false, maxLength: PasswordPolicy.maximumLength)
        let requested = reader.string("organization_id", maxLength: 64)
        try reader.finish()
        guard let email, let password else { throw APIError.badRequest("Invalid request") }
        let invalid = APIError(status: 401, title: "Unauthenticated", detail: "Invalid email or password")
        let user = try db.read { db in
            try db.query("SELECT * FROM users WHERE email_key = ?", .text(EmailAddress.canonical(email))).first
        }
        let verified = PasswordHasher.verify(password, hash: user?.string("password_hash") ?? AuthNode.decoyHash)
        guard let user, verified, user.bool("active"), let userID = user.string("id") else { throw invalid }

        let organizations = try db.read { db in
            try db.query(
                "SELECT o.* FROM organizations o JOIN memberships m ON m.org_id = o.id WHERE m.user_id = ? ORDER BY o.created_at, o.id",
                .text(userID))
        }
        let chosen: Row
        if let requested {
            guard let match = organizations.first(where: { $0.string("id") == requested }) else { throw invalid }
            chosen = match
        } else if organizations.count == 1 {
            chosen = organizations[0]
        } else if organizations.isEmpty {
            throw invalid
        } else {
            throw APIError(
                status: 400,
                detail: "You belong to \(organizations.count) organizations; say which one with organization_id",
                invalidParameters: [
                    InvalidParameter(
                        field: "organization_id", rule: "required",
                        reason: "is required when you belong to several organizations")
                ],
                extra: JSONObject([
                    (
                        "organizations",
                        .array(
                            organizations.map {
                                [
                                    "id": .optional($0.string("id")), "name": .optional($0.string("name")),
                                    "state": .optional($0.string("state")),
                                ]
                            })
                    )
                ]))
        }
        let orgID = chosen.string("id") ?? ""
        let state = chosen.string("state") ?? "active"
        guard state == OrganizationState.active.rawValue else {
            throw AuthNode.organizationDeactivated(orgID, state: state)
        }
        let token = Secrets.token(prefix: "kses_")
        let now = self.now
        let expires = now + AuthNode.sessionLifetime
        try db.write { db in
            try db.execute(
                "INSERT INTO sessions(token_hash, user_id, org_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                .text(Secrets.sha256Hex(token)), .text(userID), .text(orgID), .time(now), .time(expires))
            // Logins are what keeps a free organization active (D2).
            try db.execute("UPDATE organizations SET last_login_at = ? WHERE id = ?", .time(now), .text(orgID))
        }
        return HTTPResponse.json([
            "access_token": .string(token), "token_type": "Bearer",
            "expires_in": .int(AuthNode.sessionLifetime.seconds),
            "expires_at": expires.json, "organization_id": .string(orgID), "user_id": .string(userID),
        ])
    }

    /// A valid yescrypt hash of a random password, verified against when the email is unknown so that
    /// both answers take the same time.
    static let decoyHash = PasswordHasher.hash(Secrets.token(prefix: ""))

    /// `DELETE /v3/users/me`: the owner closes the organization (D1); anyone else leaves it.
    func deleteMyAccount(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try self.principal(request)
        if principal.isOwner {
            try deactivate(
                organizationID: principal.organizationID, reason: .ownerDeletedAccount,
                actor: "user:\(principal.userID)")
            try db.write { db in
                let others =
                    try db.query(
                        "SELECT COUNT(*) AS n FROM memberships WHERE user_id = ? AND org_id != ?",
                        .text(principal.userID),
                        .text(principal.organizationID)
                    ).first?.int("n") ?? 0
                if others == 0 {
                    try db.execute(
                        "UPDATE users SET active = 0, updated_at = ? WHERE id = ?", .time(now), .text(principal.userID))
                }
            }
        } else {
            try db.write { db in
                try removeMember(db, organizationID: principal.organizationID, userID: principal.userID)
            }
        }
        return .noContent
    }

    /// Removes a user from one organization: membership, teams, roles and tokens for it.
    func removeMember(_ db: Transaction, organizationID: String, userID: String) throws {
        try db.execute("DELETE FROM memberships WHERE org_id = ? AND user_id = ?", .text(organizationID), .text(userID))
        try db.execute(
            "DELETE FROM team_members WHERE user_id = ? AND team_id IN (SELECT id FROM teams WHERE org_id = ?)",
            .text(userID),
            .text(organizationID))
        try db.execute(
            "DELETE FROM role_assignments WHERE org_id = ? AND user_id = ?", .text(organizationID), .text(userID))
        try db.execute(
            "UPDATE sessions SET revoked = 1 WHERE org_id = ? AND user_id = ?", .text(organizationID), .text(userID))
        try db.execute(
            "UPDATE access_tokens SET revoked_at = ? WHERE org_id = ? AND user_id = ? AND revoked_at IS NULL",
            .time(now),
            .text(organizationID), .text(userID))
    }

    func listUsers(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try self.principal(request)
        let page = try PageRequest(request)
        var rows = try db.read { db in
            try db.query(
                "SELECT u.* FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.org_id = ? ORDER BY u.created_at, u.id",
                .text(principal.organizationID))
        }
        if let email = request.query("filter[email]") ?? request.query("filter[email][eq]") {
            rows = rows.filter { $0.string("email")?.lowercased() == email.lowercased() }
        }
        if let contains = request.query("filter[email][contains]") {
            rows = rows.filter { $0.string("email")?.lowercased().contains(contains.lowercased()) == true }
        }
        return page.response(rows.map(userJSON))
    }

    /// A member of the caller's organization, or 404 (other organizations' users do not exist here).
    func memberRow(_ principal: Principal, _ userID: String) throws -> Row {
        guard IdentifierSource.isUUID(userID) else {
            throw APIError.invalid(
                field: "userId", rule: "is_uuid", reason: "must be a UUID, got \"\(userID.prefix(64))\"")
        }
        let row = try db.read { db in
            try db.query(
                "SELECT u.* FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.org_id = ? AND u.id = ?",
                .text(principal.organizationID), .text(userID)
            ).first
        }
        guard let row else { throw APIError.notFound("The requested user was not found") }
        return row
    }

    func getUser(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try self.principal(request)
        return HTTPResponse.json(userJSON(try memberRow(principal, request.parameter("userId"))))
    }

    /// `DELETE /v3/users/{userId}`: an admin removes a member from the organization.
    func removeUser(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try self.principal(request)
        try requireAdmin(principal)
        let userID = request.parameter("userId")
        _ = try memberRow(principal, userID)
        guard userID != principal.ownerID else {
            throw APIError.conflict(
                "The owner cannot be removed; transfer ownership first or delete the account as the owner")
        }
        try db.write { db in try removeMember(db, organizationID: principal.organizationID, userID: userID) }
        return .noContent
    }

    // MARK: - Personal access tokens (A3)

    private func tokenOwner(_ request: APIRequest) throws -> Principal {
        let principal = try self.principal(request)
        let userID = request.parameter("userId")
        guard userID == principal.userID || userID == "me" else {
            if IdentifierSource.isUUID(userID) {
                throw APIError(
                    status: 403, title: "Permission denied",
                    detail: "Personal access tokens can only be managed by their own user")
            }
            throw APIError.invalid(
                field: "userId", rule: "is_uuid", reason: "must be a UUID, got \"\(userID.prefix(64))\"")
        }
        return principal
    }

    func accessTokenJSON(_ row: Row) -> JSON {
        let now = self.now
        var state = "ACTIVE"
        if row.int("revoked_at") != nil {
            state = "REVOKED"
        } else if let expires = row.time("expires_at"), expires <= now {
            state = "EXPIRED"
        }
        return [
            "id": .optional(row.string("id")), "name": .optional(row.string("name")), "state": .string(state),
            "user_id": .optional(row.string("user_id")), "created_at": row.time("created_at")?.json ?? .null,
            "updated_at": row.time("updated_at")?.json ?? .null, "expires_at": row.time("expires_at")?.json ?? .null,
            "last_used_at": row.time("last_used_at")?.json ?? .null,
            "revoked_at": row.time("revoked_at")?.json ?? .null,
        ]
    }

    func createAccessToken(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try tokenOwner(request)
        var reader = try ObjectReader(request.json())
        let name = reader.string("name", required: true, nullable: false, minLength: 1, maxLength: 256)
        let ttl = reader.int("ttl_seconds", min: 86_400, max: 31_536_000)
        let expiresText = reader.string("expires_at", maxLength: 64)
        try reader.finish()
        guard let name else { throw APIError.badRequest("Invalid request") }
        let now = self.now
        var expires: SimTime? = ttl.map { now + SimDuration(seconds: $0) }
        if let expiresText {
            guard ttl == nil else {
                throw APIError.invalid(
                    field: "expires_at", rule: "dependent_fields",
                    reason: "give either ttl_seconds or expires_at, not both")
            }
            guard let moment = SimTime(iso8601: expiresText) else {
                throw APIError.invalid(
                    field: "expires_at", rule: "is_date_time",
                    reason: "must be an RFC 3339 date-time such as 2026-12-31T00:00:00Z")
            }
            guard moment > now else {
                throw APIError.invalid(
                    field: "expires_at", rule: "invalid",
                    reason: "must be after the calendar's current moment \(now.iso8601)")
            }
            expires = moment
        }
        let token = Secrets.token(prefix: "kpat_")
        let row = try db.write { db -> Row in
            let id = try ids.next(db)
            try db.execute(
                "INSERT INTO access_tokens(id, user_id, org_id, name, token_hash, created_at, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                .text(id), .text(principal.userID), .text(principal.organizationID), .text(name),
                .text(Secrets.sha256Hex(token)),
                .time(now), .time(now), .time(expires))
            return try db.single(
                "SELECT * FROM access_tokens WHERE id = ?", .text(id),
                missing: APIError.notFound("The access token was not found"))
        }
        var body = accessTokenJSON(row)
        body["konnect_token"] = .string(token)
        return HTTPResponse.json(body, status: 201)
    }

    func listAccessTokens(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try tokenOwner(request)
        let rows = try db.read { db in
            try db.query(
                "SELECT * FROM access_tokens WHERE user_id = ? AND org_id = ? ORDER BY created_at, id",
                .text(principal.userID),
                .text(principal.organizationID))
        }
        return HTTPResponse.json([
            "meta": ["number": 1, "size": .int(rows.count), "total": .int(rows.count)],
            "data": .array(rows.map(accessTokenJSON)),
        ])
    }

    private func accessTokenRow(_ principal: Principal, _ id: String) throws -> Row {
        let row = try db.read { db in
            try db.query("SELECT * FROM access_tokens WHERE id = ? AND user_id = ?", .text(id), .text(principal.userID))
                .first
        }
        guard let row else { throw APIError.notFound("The requested access token was not found") }
        return row
    }

    func getAccessToken(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try tokenOwner(request)
        return HTTPResponse.json(accessTokenJSON(try accessTokenRow(principal, request.parameter("tokenId"))))
    }

    /// Revokes the token: it answers 401 from then on.
    func deleteAccessToken(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try tokenOwner(request)
        let id = request.parameter("tokenId")
        _ = try accessTokenRow(principal, id)
        try db.write { db in
            try db.execute(
                "UPDATE access_tokens SET revoked_at = ?, updated_at = ? WHERE id = ? AND revoked_at IS NULL",
                .time(now), .time(now), .text(id))
        }
        return .noContent
    }

    // MARK: - Invites (A2, A4)

    /// `POST /v3/invites`: an admin invites someone by email. The simulator has no mail: the answer
    /// carries the invite token the invitee accepts with.
    func invite(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try self.principal(request)
        try requireAdmin(principal)
        var reader = try ObjectReader(request.json())
        let email = reader.string(
            "email", required: true, nullable: false, minLength: 3, maxLength: EmailAddress.maximumLength,
            validate: EmailAddress.problem)
        try reader.finish()
        guard let email else { throw APIError.badRequest("Invalid request") }
        let key = EmailAddress.canonical(email)
        let token = Secrets.token(prefix: "kinv_")
        let now = self.now
        let id = try db.write { db -> String in
            let member = try db.query(
                "SELECT 1 FROM users u JOIN memberships m ON m.user_id = u.id WHERE u.email_key = ? AND m.org_id = ?",
                .text(key),
                .text(principal.organizationID)
            ).first
            if member != nil { throw APIError.conflict("\(email) is already a member of this organization") }
            let id = try ids.next(db)
            try db.execute(
                "INSERT INTO invites(id, org_id, email, email_key, token_hash, invited_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                .text(id), .text(principal.organizationID), .text(email), .text(key), .text(Secrets.sha256Hex(token)),
                .text(principal.userID), .time(now))
            return id
        }
        return HTTPResponse.json(
            [
                "id": .string(id), "email": .string(email), "organization_id": .string(principal.organizationID),
                "invite_token": .string(token), "created_at": now.json,
            ], status: 201)
    }

    /// `POST /v3/invites/accept`: the invitee joins, creating their account (with a password) if needed.
    func acceptInvite(_ request: APIRequest) throws -> HTTPResponse {
        var reader = try ObjectReader(request.json())
        let token = reader.string("invite_token", required: true, nullable: false, maxLength: 128)
        let password = reader.string(
            "password", required: true, nullable: false, maxLength: PasswordPolicy.maximumLength)
        let fullName = reader.string("full_name", minLength: 1, maxLength: 250)
        try reader.finish()
        guard let token, let password else { throw APIError.badRequest("Invalid request") }
        let invite = try db.read { db in
            try db.query(
                "SELECT * FROM invites WHERE token_hash = ? AND accepted_at IS NULL", .text(Secrets.sha256Hex(token))
            ).first
        }
        guard let invite, let orgID = invite.string("org_id"), let key = invite.string("email_key") else {
            throw APIError(
                status: 401, title: "Unauthenticated", detail: "The invite token is unknown or was already used")
        }
        let org = try db.read { db in try db.query("SELECT state FROM organizations WHERE id = ?", .text(orgID)).first }
        let state = org?.string("state") ?? "deleted"
        guard state == OrganizationState.active.rawValue else {
            throw AuthNode.organizationDeactivated(orgID, state: state)
        }
        let existing = try db.read { db in try db.query("SELECT * FROM users WHERE email_key = ?", .text(key)).first }
        var hash = ""
        if let existing {
            guard PasswordHasher.verify(password, hash: existing.string("password_hash") ?? "") else {
                throw APIError(
                    status: 401, title: "Unauthenticated",
                    detail: "An account with this email exists; give its password to accept")
            }
        } else {
            let violations = PasswordPolicy.violations(password)
            guard violations.isEmpty else {
                throw APIError(
                    status: 422,
                    detail:
                        "The password does not meet the password policy: \(violations.map(\.reason).joined(separator: "; "))",
                    invalidParameters: violations.map {
                        InvalidParameter(field: "password", rule: $0.rule, reason: $0.reason)
                    })
            }
            guard fullName != nil else {
                throw APIError.invalid(
                    field: "full_name", rule: "required", reason: "is required to create the account")
            }
            hash = PasswordHasher.hash(password)
        }
        let now = self.now
        let user = try db.write { db -> Row in
            let userID: String
            if let existing, let id = existing.string("id") {
                userID = id
                try db.execute("UPDATE users SET active = 1 WHERE id = ?", .text(id))
            } else {
                userID = try ids.next(db)
                try db.execute(
                    "INSERT INTO users(id, email, email_key, full_name, password_hash, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
                    .text(userID), .text(invite.string("email") ?? key), .text(key), .text(fullName ?? ""), .text(hash),
                    .time(now), .time(now))
            }
            let changed = try db.execute(
                "UPDATE invites SET accepted_at = ? WHERE id = ? AND accepted_at IS NULL", .time(now),
                .text(invite.string("id") ?? ""))
            guard changed == 1 else { throw APIError.conflict("The invite was accepted meanwhile") }
            try db.execute(
                "INSERT OR IGNORE INTO memberships(org_id, user_id, created_at) VALUES (?, ?, ?)", .text(orgID),
                .text(userID), .time(now))
            return try db.single(
                "SELECT * FROM users WHERE id = ?", .text(userID), missing: APIError.notFound("The user was not found"))
        }
        return HTTPResponse.json(["user": userJSON(user), "organization_id": .string(orgID)], status: 201)
    }
}
