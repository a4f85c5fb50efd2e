import KonnectCore
import KonnectHTTP
import KonnectSecurity

/// Personal access tokens (A3): created, listed and revoked by their own user only.
struct AccessTokenRoutes: Sendable {
    let db: AuthDatabase
    let clock: CalendarClock
    let principals: PrincipalResolver
    let accessTokens: AccessTokenStore
    let tokenUses: AccessTokenUses

    var routes: [Router.Route] {
        [
            Router.route("GET", "/v3/users/{userId}/access-tokens", list),
            Router.route("POST", "/v3/users/{userId}/access-tokens", create),
            Router.route("GET", "/v3/users/{userId}/access-tokens/{tokenId}", get),
            Router.route("DELETE", "/v3/users/{userId}/access-tokens/{tokenId}", revoke),
        ]
    }

    /// The caller, when the path names them (or `me`); 403 for another user's tokens.
    private func owner(_ request: APIRequest) throws -> Principal {
        let principal = try principals.principal(request)
        let userID = request.parameter("userId")
        guard userID == principal.userID || userID == "me" else {
            try AuthProblem.requireUUID(userID, field: "userId")
            throw APIError(
                status: 403, title: "Permission denied",
                detail: "Personal access tokens can only be managed by their own user")
        }
        return principal
    }

    func create(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try owner(request)
        var reader = try ObjectReader(request.json())
        let name = reader.string("name", required: true, nullable: false, minLength: 1, maxLength: 256)
        let ttl = reader.int("ttl_seconds", min: 86_400, max: 31_536_000)
        let expiresText = reader.string("expires_at", maxLength: 64)
        try reader.finish()
        guard let name else { throw APIError.badRequest("Invalid request") }
        let now = clock.now
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
        let created = try db.write { work in
            try accessTokens.create(
                work, userID: principal.userID, organizationID: principal.organizationID, name: name,
                tokenHash: Secrets.sha256Hex(token), expiresAt: expires, at: now)
        }
        guard let created else { throw APIError.notFound("The access token was not found") }
        var body = created.json(now: now)
        body["konnect_token"] = .string(token)
        return HTTPResponse.json(body, status: 201)
    }

    func list(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try owner(request)
        // The list shows when each token was last used, including uses not written yet.
        try tokenUses.flush()
        let tokens = try db.read { tx in
            try accessTokens.tokens(tx, userID: principal.userID, organizationID: principal.organizationID)
        }
        let now = clock.now
        return HTTPResponse.json([
            "meta": ["number": 1, "size": .int(tokens.count), "total": .int(tokens.count)],
            "data": .array(tokens.map { $0.json(now: now) }),
        ])
    }

    private func token(_ principal: Principal, _ id: String) throws -> AccessTokenRecord {
        guard let token = try db.read({ tx in try accessTokens.token(tx, id: id, userID: principal.userID) }) else {
            throw APIError.notFound("The requested access token was not found")
        }
        return token
    }

    func get(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try owner(request)
        try tokenUses.flush()
        return HTTPResponse.json(try token(principal, request.parameter("tokenId")).json(now: clock.now))
    }

    /// Revokes the token: it answers 401 from then on.
    func revoke(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try owner(request)
        let id = request.parameter("tokenId")
        _ = try token(principal, id)
        let now = clock.now
        try db.write { work in try accessTokens.revoke(work, id: id, at: now) }
        return .noContent
    }
}
