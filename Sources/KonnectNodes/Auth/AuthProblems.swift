import KonnectCore

/// The auth node's recurring answers for callers who may not do something.
enum AuthProblem {
    static let tokenMissing = APIError(
        status: 401, title: "Unauthenticated",
        detail:
            "A valid token is required: send 'Authorization: Bearer <token>' from POST /v3/authenticate or a personal access token"
    )

    static let tokenInvalid = APIError(
        status: 401, title: "Unauthenticated",
        detail: "The token is invalid, expired or revoked; log in again with POST /v3/authenticate")

    /// The 401 for a session or personal access token whose calendar expiry has passed (A3).
    static func tokenExpired(_ kind: Introspection.TokenKind, at moment: SimTime) -> APIError {
        let what =
            kind == .session
            ? "The session expired at \(moment.iso8601) (sessions last one calendar day); log in again with POST /v3/authenticate"
            : "The personal access token expired at \(moment.iso8601); create a new one with POST /v3/users/{userId}/access-tokens"
        return APIError(
            status: 401, title: "Unauthenticated", detail: what,
            extra: JSONObject([("reason", "token_expired"), ("expired_at", .string(moment.iso8601))]))
    }

    /// The 401 for tokens of an organization that nobody can log into any more (D3). A deactivated
    /// organization can be reactivated by Kong Support; one deleted after its retention period cannot.
    static func organizationDeactivated(_ id: String, state: OrganizationState) -> APIError {
        let detail: String
        switch state {
        case .inactive:
            detail =
                "Organization \(id) is deactivated: nobody can log into it any more. Contact Kong Support to reactivate it."
        case .deleting, .deleted:
            detail =
                "Organization \(id) is \(state == .deleting ? "being deleted" : "deleted") after its retention period: nobody can log into it any more, and it cannot be reactivated."
        case .active:
            detail = "Organization \(id) is active."
        }
        return APIError(
            status: 401, title: "Organization Deactivated", detail: detail,
            extra: JSONObject([("reason", "organization_deactivated"), ("organization_state", .string(state.rawValue))])
        )
    }

    /// The 409 for a signup with the email of a deactivated organization's owner (D3).
    static func emailLocked(_ email: String) -> APIError {
        APIError(
            status: 409, title: "Email Locked",
            detail:
                "The email \(email) belongs to a deactivated organization and is locked; Kong Support can unlock it",
            extra: JSONObject([("reason", "email_locked")]))
    }

    static let adminRequired = APIError(
        status: 403, title: "Permission denied", detail: "You must hold the Organization Admin role to do this")

    /// A problem the database had, as the caller sees it.
    static func storage(_ error: any Error) -> APIError {
        if let error = error as? APIError { return error }
        return APIError(status: 500, detail: "The auth node could not read its database: \(error)")
    }
}

extension AuthProblem {
    /// The 422 for a password that breaks the policy (A2), one invalid parameter per broken rule.
    static func passwordPolicy(_ violations: [PasswordPolicy.Violation]) -> APIError {
        APIError(
            status: 422,
            detail:
                "The password does not meet the password policy: \(violations.map(\.reason).joined(separator: "; "))",
            invalidParameters: violations.map { $0.parameter(field: "password") })
    }

    /// A path id that is not a UUID (checked before any lookup).
    static func requireUUID(_ value: String, field: String) throws(APIError) {
        guard IdentifierSource.isUUID(value) else {
            throw APIError.invalid(field: field, rule: "is_uuid", reason: "must be a UUID, got \"\(value.prefix(64))\"")
        }
    }
}
