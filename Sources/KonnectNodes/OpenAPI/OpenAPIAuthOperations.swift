import KonnectCore
import KonnectHTTP

/// The global API's operations and schemas (auth node), in identity-v3's shapes where it has them.
extension OpenAPIDocument {
    static func op(
        _ method: String, _ path: String, _ summary: String, _ tag: String, security: Security = .token,
        query: [(String, JSON, String)] = [], request: JSON? = nil, requestOptional: Bool = false,
        success: Int = 200, response: JSON? = nil, errors: [Int] = [], unixOnly: Bool = false,
        style: ErrorStyle = .problem, introspects: Bool = false, mediaType: String = "application/json"
    ) -> Operation {
        Operation(
            method: method, path: path, summary: summary, tag: tag, security: security, query: query,
            request: request, requestOptional: requestOptional, success: [(success, response)],
            successMediaType: mediaType, errors: errors, style: style, unixOnly: unixOnly, introspects: introspects)
    }

    static let pageQuery: [(String, JSON, String)] = [
        ("page[size]", integer(min: 1), "Items per page"), ("page[number]", integer(min: 1), "Page, from 1"),
    ]

    static func filters(_ names: [String]) -> [(String, JSON, String)] {
        names.map { ($0, string, "Keeps the items whose field matches") }
    }

    static var commonOperations: [Operation] {
        [
            op("GET", "/health", "Whether the node answers.", "Health", security: .none, response: ref("Health")),
            op(
                "GET", "/openapi.json", "This document (the listener's own).", "Health", security: .none,
                response: anyObject),
        ]
    }

    static let teamPath = "/v3/teams/{teamId}"
    static let supportPath = "/v3/support/organizations/{orgId}"
    static let accessTokensPath = "/v3/users/{userId}/access-tokens"

    static var authOperations: [Operation] {
        var operations = commonOperations
        operations += identityOperations
        operations += accessTokenOperations
        operations += inviteOperations
        operations += organizationOperations
        operations += teamOperations
        operations += roleOperations
        operations += simulatorOperations
        operations += supportOperations
        operations += internalAuthOperations
        return operations
    }

    static var identityOperations: [Operation] {
        [
            op(
                "POST", "/v3/signup", "Create a user and their organization (plan, home geo, three licenses).",
                "Identity", security: .none, request: ref("Signup"), success: 201, response: ref("SignupResult"),
                errors: [409, 422]),
            op(
                "POST", "/v3/authenticate",
                "Log into one organization; returns a session token. Failures are throttled per email and per client (429 with Retry-After).",
                "Identity", security: .none, request: ref("Authenticate"), response: ref("AuthenticateResult"),
                errors: [401, 429]),
            op("GET", "/v3/users/me", "The caller's account.", "Identity", response: ref("User"), errors: [404]),
            op(
                "DELETE", "/v3/users/me",
                "Delete my account: the owner closes the organization, anyone else leaves it.", "Identity",
                success: 204, errors: [409]),
            op(
                "GET", "/v3/users", "The organization's members.", "Identity",
                query: pageQuery + filters(["filter[email]", "filter[email][eq]", "filter[email][contains]"]),
                response: list(ref("User")), errors: [400]),
            op("GET", "/v3/users/{userId}", "A member.", "Identity", response: ref("User")),
            op(
                "DELETE", "/v3/users/{userId}", "Remove a member from the organization (Organization Admin).",
                "Identity", success: 204, errors: [403, 409]),
            op(
                "GET", "/v3/users/{userId}/teams", "The teams a member belongs to.", "Team Membership",
                query: pageQuery + filters(["filter[name]", "filter[name][eq]", "filter[name][contains]"]),
                response: list(ref("Team"))),
        ]
    }

    static var accessTokenOperations: [Operation] {
        let tokens = accessTokensPath
        return [
            op(
                "GET", tokens, "The caller's personal access tokens.", "Personal Access Tokens",
                response: ref("PersonalAccessTokenList"), errors: [400, 403]),
            op(
                "POST", tokens,
                "Create a personal access token (shown once); a user has at most 10 that are not revoked or expired.",
                "Personal Access Tokens", request: ref("PersonalAccessTokenCreate"), success: 201,
                response: ref("PersonalAccessTokenCreated"), errors: [403, 409]),
            op(
                "GET", tokens + "/{tokenId}", "A personal access token.", "Personal Access Tokens",
                response: ref("PersonalAccessToken"), errors: [403]),
            op(
                "PATCH", tokens + "/{tokenId}", "Rename a personal access token.", "Personal Access Tokens",
                request: ref("PersonalAccessTokenUpdate"), response: ref("PersonalAccessToken"), errors: [403]),
            op(
                "DELETE", tokens + "/{tokenId}", "Delete a personal access token (it answers 401 from then on).",
                "Personal Access Tokens", success: 204, errors: [403]),
            op(
                "PATCH", tokens + "/{tokenId}/revoke",
                "Revoke a personal access token: it stays listed as REVOKED and answers 401 from then on.",
                "Personal Access Tokens", response: ref("PersonalAccessToken"), errors: [403]),
        ]
    }

    static var inviteOperations: [Operation] {
        [
            op(
                "GET", "/v3/invites", "Pending invites of the organization (Organization Admin).", "Invites",
                query: pageQuery, response: list(ref("Invite")), errors: [400, 403]),
            op(
                "POST", "/v3/invites",
                "Invite someone by email (the answer carries the invite token); 409 for a member or a pending invite.",
                "Invites", request: ref("InviteUser"), success: 201, response: ref("InviteCreated"),
                errors: [403, 409]),
            op(
                "DELETE", "/v3/invites/{inviteId}", "Revoke a pending invite: its token no longer works.", "Invites",
                success: 204, errors: [403]),
            op(
                "POST", "/v3/invites/accept", "Accept an invite, creating the account if needed.", "Invites",
                security: .none, request: ref("AcceptInvite"), success: 201, response: ref("AcceptInviteResult"),
                errors: [401, 409, 422]),
        ]
    }

    static var organizationOperations: [Operation] {
        [
            op(
                "GET", "/v3/organizations/me", "The organization the caller is logged into.", "Organizations",
                response: ref("Organization"), errors: [404]),
            op(
                "PATCH", "/v3/organizations/me", "Rename the organization or change its retention period (1-365 days).",
                "Organizations", request: ref("UpdateOrganization"), response: ref("Organization"), errors: [403]),
            op(
                "PUT", "/v3/organizations/me/owner", "Transfer ownership to another Organization Admin.",
                "Organizations", request: ref("TransferOwnership"), response: ref("Organization"),
                errors: [403, 404]),
            op(
                "POST", "/v3/organizations/me/deactivate", "Deactivate the organization (Organization Admin).",
                "Organizations", response: ref("Organization"), errors: [403, 409]),
            op(
                "GET", "/v3/organizations/me/licenses", "The licenses provisioned at creation.", "Organizations",
                response: dataList(ref("License"))),
            op(
                "GET", "/v3/organizations/me/plan", "Plan, trial, credits, payment method, subscriptions.", "Billing",
                response: ref("Plan"), errors: [403]),
            op(
                "PUT", "/v3/organizations/me/payment-method",
                "Put a payment method on file (the organization becomes paid).", "Billing",
                request: ref("PaymentMethod"), response: ref("Plan"), errors: [403]),
            op(
                "DELETE", "/v3/organizations/me/payment-method",
                "Remove the payment method (a Plus organization becomes free).", "Billing", response: ref("Plan"),
                errors: [403]),
            op(
                "GET", "/v3/organizations/me/billing/usage", "The Billing and Usage view of a cycle.", "Billing",
                query: [("cycle", string, "current (default), previous or a cycle number from 0")],
                response: ref("Usage"), errors: [400, 403, 404]),
            op(
                "GET", "/v3/organizations/me/invoices", "Issued invoices.", "Billing",
                response: dataList(ref("Invoice")), errors: [403]),
        ]
    }

    static var teamOperations: [Operation] {
        let team = teamPath
        return [
            op(
                "GET", "/v3/teams", "The organization's teams.", "Teams",
                query: pageQuery + filters(["filter[name]", "filter[name][eq]", "filter[name][contains]"]),
                response: list(ref("Team")), errors: [400]),
            op(
                "POST", "/v3/teams", "Create a team (Organization Admin).", "Teams", request: ref("CreateTeam"),
                success: 201, response: ref("Team"), errors: [403, 409]),
            op("GET", team, "A team.", "Teams", response: ref("Team")),
            op(
                "PATCH", team, "Change a team (Organization Admin).", "Teams", request: ref("UpdateTeam"),
                response: ref("Team"), errors: [403, 409]),
            op("DELETE", team, "Delete a team (Organization Admin).", "Teams", success: 204, errors: [403]),
            op("GET", team + "/users", "A team's members.", "Teams", query: pageQuery, response: list(ref("User"))),
            op(
                "POST", team + "/users", "Add a member to a team (Organization Admin).", "Teams",
                request: ref("AddTeamUser"), success: 201, errors: [403, 409]),
            op(
                "DELETE", team + "/users/{userId}", "Remove a member from a team (Organization Admin).", "Teams",
                success: 204, errors: [403]),
        ]
    }

    static var roleOperations: [Operation] {
        let team = teamPath
        return [
            op("GET", "/v3/roles", "The predefined roles.", "Roles", response: ref("RoleCatalog")),
            op(
                "GET", "/v3/users/{userId}/assigned-roles", "A user's roles.", "Roles",
                query: filters(["filter[role_name]", "filter[entity_type_name]"]), response: list(ref("AssignedRole"))),
            op(
                "POST", "/v3/users/{userId}/assigned-roles", "Assign a role to a user (Organization Admin).", "Roles",
                request: ref("AssignRole"), success: 201, response: ref("AssignedRole"), errors: [403, 409]),
            op(
                "DELETE", "/v3/users/{userId}/assigned-roles/{roleId}", "Remove a user's role (Organization Admin).",
                "Roles", success: 204, errors: [403, 409]),
            op(
                "GET", team + "/assigned-roles", "A team's roles.", "Roles",
                query: filters(["filter[role_name]", "filter[entity_type_name]"]), response: list(ref("AssignedRole"))),
            op(
                "POST", team + "/assigned-roles", "Assign a role to a team (Organization Admin).", "Roles",
                request: ref("AssignRole"), success: 201, response: ref("AssignedRole"), errors: [403, 409]),
            op(
                "DELETE", team + "/assigned-roles/{roleId}", "Remove a team's role (Organization Admin).", "Roles",
                success: 204, errors: [403]),
        ]
    }

    static var simulatorOperations: [Operation] {
        [
            op(
                "GET", "/v3/simulator/clock", "The simulated calendar's current moment.", "Simulator",
                security: .none, response: ref("Clock")),
            op(
                "POST", "/v3/simulator/clock/advance",
                "Move the calendar forward by a duration, running what falls due.", "Simulator", security: .support,
                request: ref("AdvanceClock"), response: ref("CalendarMove"), errors: [409]),
            op(
                "PUT", "/v3/simulator/clock", "Move the calendar forward to a date.", "Simulator", security: .support,
                request: ref("SetClock"), response: ref("CalendarMove"), errors: [409]),
        ]
    }

    static var supportOperations: [Operation] {
        let support = supportPath
        return [
            op(
                "GET", "/v3/support/organizations", "Every organization.", "Support", security: .support,
                query: pageQuery + filters(["filter[owner_email]", "filter[name]", "filter[state]"]),
                response: list(ref("SupportOrganizationSummary")), errors: [400]),
            op(
                "GET", support, "An organization's state, history, licenses and subscriptions.", "Support",
                security: .support, response: ref("SupportOrganization")),
            op(
                "GET", support + "/licenses", "An organization's licenses, also after deactivation.", "Support",
                security: .support, response: dataList(ref("License"))),
            op(
                "GET", support + "/invoices", "An organization's invoices.", "Support", security: .support,
                response: dataList(ref("Invoice"))),
            op(
                "GET", support + "/billing/usage", "An organization's Billing and Usage view of a cycle.", "Support",
                security: .support, query: [("cycle", string, "current (default), previous or a cycle number")],
                response: ref("Usage")),
            op(
                "GET", support + "/plan", "An organization's plan.", "Support", security: .support,
                response: ref("Plan")),
            op(
                "POST", support + "/deactivate", "Deactivate an organization on request.", "Support",
                security: .support, response: ref("SupportOrganization"), errors: [409]),
            op(
                "POST", support + "/reactivate", "Reactivate a deactivated organization.", "Support",
                security: .support, response: ref("SupportOrganization"), errors: [409]),
            op(
                "GET", "/v3/support/email-locks", "Locked emails.", "Support", security: .support,
                response: dataList(closed(["email": string, "organization_id": uuid, "locked_at": dateTime]))),
            op(
                "DELETE", "/v3/support/email-locks/{email}", "Unlock an email for a new account.", "Support",
                security: .support, success: 204, errors: [404]),
        ]
    }

    static var internalAuthOperations: [Operation] {
        [
            op(
                "POST", "/internal/v1/introspect",
                "Resolve a geo's waiting tokens in one read: for each, user, organization, roles, calendar and "
                    + "licenses, or the problem (IntrospectionRequest, IntrospectionAnswers).",
                "Internal", security: .socket,
                request: closed(["tokens": array(string(min: 1, max: 1024), max: 64)], required: ["tokens"]),
                response: anyObject, errors: [400], unixOnly: true),
            op(
                "GET", "/internal/v1/events", "Outbox events after a geo's cursor, long-polled (EventFeed).",
                "Internal", security: .socket,
                query: [
                    ("geo", string, "The asking geo"), ("after", integer(min: 0), "Its cursor (acknowledges up to it)"),
                    ("wait_ms", integer(min: 0), "How long to wait for an event"),
                ], response: anyObject, errors: [400], unixOnly: true),
            op(
                "POST", "/internal/v1/usage", "Numbered usage records from a geo, idempotent (UsageBatch).",
                "Internal", security: .socket, request: anyObject, response: anyObject, unixOnly: true),
            op(
                "GET", "/internal/v1/clock", "The calendar, for geos.", "Internal", security: .socket,
                response: ref("Clock"), unixOnly: true),
            Operation(
                method: "POST", path: "/internal/v1/creator-roles",
                summary:
                    "Make a control plane's creator its Admin in the geo, before the geo creates it; idempotent (CreatorRoleRequest).",
                tag: "Internal", security: .socket, request: anyObject, success: [(201, anyObject), (200, anyObject)],
                errors: [400, 403, 404, 409], unixOnly: true),
        ]
    }

    static func authSchemas(geos: [String]) -> JSONObject {
        let email = string(min: 3, max: EmailAddress.maximumLength, format: "email")
        let password: JSON = [
            "type": "string", "minLength": .int(PasswordPolicy.minimumLength),
            "maxLength": .int(PasswordPolicy.maximumLength),
            "description":
                "At least 12 characters with an upper-case letter, a lower-case letter, a digit and a special character, and no character three times in a row (422 otherwise).",
        ]
        let token = closed(
            [
                "id": uuid, "user_id": uuid, "name": string, "state": enumeration(["ACTIVE", "REVOKED", "EXPIRED"]),
                "revoked_by": nullable(uuid), "created_at": dateTime, "updated_at": dateTime,
                "last_used_at": nullable(dateTime), "expires_at": nullable(dateTime), "revoked_at": nullable(dateTime),
            ], required: ["id", "name", "state", "user_id", "created_at", "updated_at", "expires_at"])
        var created = token
        created["properties"]?["konnect_token"] = string
        created["required"] = .strings([
            "id", "name", "state", "user_id", "created_at", "updated_at", "expires_at", "konnect_token",
        ])
        let organization: JSONObject = [
            "id": uuid, "name": string, "owner_id": uuid, "login_path": string, "created_at": dateTime,
            "updated_at": dateTime, "state": enumeration(["active", "inactive", "deleting", "deleted"]),
            "retention_period_days": integer(min: 1, max: 365), "plan": enumeration(["plus", "enterprise"]),
            "home_geo": string,
        ]
        var summary = organization
        summary["owner_email"] = nullable(string)
        var supportView = summary
        for (key, value) in [
            ("deactivated_at", nullable(dateTime)), ("deactivation_reason", nullable(string)),
            ("email_locked", boolean),
            (
                "state_history",
                array(
                    closed([
                        "state": enumeration(["active", "inactive", "deleting", "deleted"]), "reason": string,
                        "actor": string, "at": dateTime,
                    ]))
            ),
            ("subscriptions", array(ref("Subscription"))), ("licenses", array(ref("License"))),
        ] {
            supportView[key] = value
        }
        let money: JSON = ["type": "string", "pattern": "^-?[0-9]+\\.[0-9]{2}$"]
        // Trial credits (P1), in the plan and in the Billing and Usage view.
        let credits = closed([
            "granted": money, "used": money, "expired": money, "left": money, "expires_at": nullable(dateTime),
            "currency": string,
        ])
        let invoice: JSON = [
            "type": "object",
            "required": [
                "cycle", "period_start", "period_end", "billing", "usage", "lines", "subtotal", "credits_applied",
                "total",
            ],
            "properties": [
                "cycle": integer(min: 0), "period_start": dateTime, "period_end": dateTime,
                "billing": enumeration(["rate_card", "contract"]),
                "usage": closed(["service_days": integer, "portal_days": integer, "api_calls": integer]),
                "lines": array(
                    closed(
                        [
                            "kind": enumeration(["service", "dev_portals", "api_calls"]), "description": string,
                            "quantity": integer, "unit": string, "amount": money, "service_id": string, "geo": string,
                            "portal_days": integer, "billable_calls": integer,
                        ], required: ["kind", "description", "quantity", "unit", "amount"])),
                "subtotal": money, "credits_applied": money, "total": money,
                "status": string,
            ],
        ]
        return [
            "Signup": body(
                [
                    "email": email, "password": password, "full_name": string(min: 1, max: 250),
                    "organization_name": string(min: 1, max: 250),
                    "plan": enumeration(PlanKind.allCases.map(\.rawValue)), "geo": enumeration(geos),
                ], required: ["email", "password", "full_name", "organization_name", "geo"]),
            "SignupResult": closed(["user": ref("User"), "organization": ref("Organization")]),
            "Authenticate": body(
                [
                    "email": string(max: EmailAddress.maximumLength),
                    "password": string(max: PasswordPolicy.maximumLength),
                    "organization_id": [
                        "type": "string", "maxLength": 64,
                        "description": "Which organization, when the user belongs to several",
                    ],
                ], required: ["email", "password"]),
            "AuthenticateResult": closed([
                "access_token": string, "token_type": enumeration(["Bearer"]), "expires_in": integer,
                "expires_at": dateTime, "organization_id": uuid, "user_id": uuid,
            ]),
            "User": closed([
                "id": uuid, "email": string, "full_name": string, "preferred_name": string, "active": boolean,
                "inferred_region": string, "created_at": dateTime, "updated_at": dateTime,
            ]),
            "Organization": closed(organization),
            "SupportOrganizationSummary": closed(summary),
            "SupportOrganization": closed(supportView),
            "Subscription": closed([
                "name": string, "state": string, "started_at": dateTime, "ended_at": nullable(dateTime),
            ]),
            "License": closed([
                "id": string, "product": string, "name": string, "customer": string,
                "state": enumeration(["active", "ended"]), "created_at": dateTime, "ended_at": nullable(dateTime),
            ]),
            "PersonalAccessToken": token,
            "PersonalAccessTokenCreated": created,
            "PersonalAccessTokenList": closed(
                [
                    "meta": closed(["number": integer, "size": integer, "total": integer]),
                    "data": array(ref("PersonalAccessToken")),
                ], required: ["data"]),
            "PersonalAccessTokenCreate": body(
                [
                    "name": ref("PATName"),
                    "ttl_seconds": integer(min: 86_400, max: 31_536_000),
                    "expires_at": [
                        "type": "string", "format": "date-time", "description": "Deprecated by Kong: use ttl_seconds",
                    ],
                ], required: ["name"]),
            "PersonalAccessTokenUpdate": body(["name": ref("PATName")], required: ["name"]),
            "PATName": string(min: 1, max: 256, pattern: PersonalAccessTokenName.pattern),
            "InviteUser": body(["email": email], required: ["email"]),
            "Invite": closed([
                "id": uuid, "email": string, "organization_id": uuid, "invited_by": uuid,
                "state": enumeration(["pending"]), "created_at": dateTime,
            ]),
            "InviteCreated": closed([
                "id": uuid, "email": string, "organization_id": uuid, "invited_by": uuid,
                "state": enumeration(["pending"]), "created_at": dateTime, "invite_token": string,
            ]),
            "AcceptInvite": body(
                [
                    "invite_token": string(max: 128), "password": password,
                    "full_name": [
                        "type": "string", "minLength": 1, "maxLength": 250,
                        "description": "Required to create a new account",
                    ],
                ], required: ["invite_token", "password"]),
            "AcceptInviteResult": closed(["user": ref("User"), "organization_id": uuid]),
            "UpdateOrganization": body([
                "name": string(min: 1, max: 250),
                "retention_period_days": integer(
                    min: Int64(OrganizationLifecycle.retentionRange.lowerBound),
                    max: Int64(OrganizationLifecycle.retentionRange.upperBound)),
            ]),
            "TransferOwnership": body(["user_id": uuid], required: ["user_id"]),
            "PaymentMethod": body(["token": string(min: 1, max: 255)], required: ["token"]),
            "Plan": [
                "type": "object", "additionalProperties": false,
                "required": [
                    "plan", "display_name", "support", "professional_services", "payment_method_on_file", "free",
                    "paid", "subscriptions",
                ],
                "properties": [
                    "plan": enumeration(["plus", "enterprise"]), "display_name": string, "support": string,
                    "professional_services": boolean, "payment_method_on_file": boolean, "free": boolean,
                    "paid": boolean, "subscriptions": array(ref("Subscription")),
                    "contract": closed(["billing": enumeration(["contract"]), "started_at": dateTime]),
                    "trial": closed(["start": dateTime, "end": nullable(dateTime), "active": boolean]),
                    "credits": credits,
                ],
            ],
            "Invoice": invoice,
            "Usage": closed([
                "organization_id": uuid, "cycle": integer(min: 0), "cycle_start": dateTime, "cycle_end": dateTime,
                "status": enumeration(["open", "closed"]), "currency": string, "periods": array(ref("Invoice")),
                "plan": enumeration(["plus", "enterprise"]), "payment_method_on_file": boolean,
                "included": closed([
                    "portals": integer(min: 0), "api_calls": integer(min: 0), "service_per_cycle": money,
                    "portal_per_cycle": money, "api_calls_per_million": money,
                ]),
                "credits": credits,
            ]),
            "RoleCatalog": [
                "type": "object",
                "additionalProperties": closed([
                    "name": string,
                    "roles": [
                        "type": "object", "additionalProperties": closed(["name": string, "description": string]),
                    ],
                ]),
            ],
            "Team": closed([
                "id": uuid, "name": string, "description": nullable(string), "system_team": boolean,
                "labels": ref("Labels"), "created_at": dateTime, "updated_at": dateTime,
            ]),
            "CreateTeam": body(
                ["name": string(min: 1, max: 250), "description": string(min: 1, max: 250), "labels": ref("Labels")],
                required: ["name"]),
            "UpdateTeam": body([
                "name": string(min: 1, max: 250), "description": string(min: 1, max: 250), "labels": ref("Labels"),
            ]),
            "AddTeamUser": body(["id": uuid], required: ["id"]),
            "AssignedRole": closed([
                "id": uuid, "role_name": string, "entity_id": string, "entity_type_name": string,
                "entity_region": enumeration(RoleCatalog.regions + ["*"]),
            ]),
            "AssignRole": body(
                [
                    "role_name": string(max: 64), "entity_type_name": string(max: 64),
                    "entity_id": ["type": "string", "description": "A UUID, or * for every entity (the default)"],
                    "entity_region": enumeration(RoleCatalog.regions + ["*"]),
                ], required: ["role_name", "entity_type_name"]),
            "Clock": closed(["now": dateTime]),
            "AdvanceClock": body(
                [
                    "by": [
                        "type": "string", "maxLength": 32, "description": "A duration such as 31d, 12h, 90m or 1d12h",
                    ]
                ],
                required: ["by"]),
            "SetClock": body(["now": dateTime], required: ["now"]),
            "CalendarMove": closed(
                [
                    "now": dateTime, "previous": dateTime, "events": integer,
                    "by_kind": ["type": "object", "additionalProperties": integer], "elapsed_ms": integer,
                    "cpu_ms": integer,
                    "purges_pending": closed(["organizations": array(uuid), "geos": array(string)]),
                    "purge_wait_ms": integer,
                ]),
        ]
    }
}
