import KonnectCore
import KonnectHTTP
import KonnectSecurity

/// Personal access tokens (A3), as identity-v3 has them: created (at most `limit` working at a time),
/// listed, renamed, revoked (still listed, as REVOKED) and deleted, by their own user only.
struct AccessTokenRoutes: Sendable {
    /// identity-v3: "A maximum of 10 personal access tokens can be created." Revoked and expired tokens
    /// do not count.
    static let limit = 10

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
            Router.route("PATCH", "/v3/users/{userId}/access-tokens/{tokenId}", rename),
            Router.route("DELETE", "/v3/users/{userId}/access-tokens/{tokenId}", delete),
            Router.route("PATCH", "/v3/users/{userId}/access-tokens/{tokenId}/revoke", revoke),
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
        let name = reader.string(
            "name", required: true, nullable: false, minLength: 1, maxLength: PersonalAccessTokenName.maximumLength,
            validate: PersonalAccessTokenName.problem)
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
                    reason: "give either ttl_seconds or expires_at, not both", dependents: ["ttl_seconds"])
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
        let created = try db.write { work -> AccessTokenRecord? in
            let working = try accessTokens.activeCount(
                work.tx, userID: principal.userID, organizationID: principal.organizationID, at: now)
            guard working < AccessTokenRoutes.limit else {
                throw APIError.conflict(
                    "You have \(working) personal access tokens; at most \(AccessTokenRoutes.limit) may work at a time. Revoke or delete one first."
                )
            }
            return try accessTokens.create(
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
        try AuthProblem.requireUUID(id, field: "tokenId")
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

    /// `PATCH .../{tokenId}`: renames the token.
    func rename(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try owner(request)
        let id = request.parameter("tokenId")
        _ = try token(principal, id)
        var reader = try ObjectReader(request.json())
        let name = reader.string(
            "name", required: true, nullable: false, minLength: 1, maxLength: PersonalAccessTokenName.maximumLength,
            validate: PersonalAccessTokenName.problem)
        try reader.finish()
        guard let name else { throw APIError.invalid(field: "name", rule: "required", reason: "is required") }
        let now = clock.now
        try db.write { work in try accessTokens.rename(work, id: id, to: name, at: now) }
        try tokenUses.flush()
        return HTTPResponse.json(try token(principal, id).json(now: now))
    }

    /// `PATCH .../{tokenId}/revoke`: the token answers 401 from then on and stays listed as REVOKED.
    func revoke(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try owner(request)
        let id = request.parameter("tokenId")
        _ = try token(principal, id)
        let now = clock.now
        try db.write { work in try accessTokens.revoke(work, id: id, at: now) }
        try tokenUses.flush()
        return HTTPResponse.json(try token(principal, id).json(now: now))
    }

    /// `DELETE .../{tokenId}`: the token answers 401 from then on and is no longer listed.
    func delete(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try owner(request)
        let id = request.parameter("tokenId")
        _ = try token(principal, id)
        try db.write { work in try accessTokens.delete(work, id: id) }
        return .noContent
    }
}
