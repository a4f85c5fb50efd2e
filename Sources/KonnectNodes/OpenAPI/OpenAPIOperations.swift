import KonnectCore

extension OpenAPIDocument {
    typealias Op = Operation

    static func op(
        _ method: String, _ path: String, _ summary: String, _ tag: String, request: JSON? = nil, success: Int = 200,
        response: JSON? = nil,
        unixOnly: Bool = false, errors: [Int] = [400, 401, 403, 404]
    ) -> Operation {
        Operation(
            method: method, path: path, summary: summary, tag: tag, request: request, success: success,
            response: response, unixOnly: unixOnly, errors: errors)
    }

    static var commonOperations: [Operation] {
        [
            op("GET", "/health", "Whether the node answers.", "Health", response: object, errors: []),
            op("GET", "/openapi.json", "This document.", "Health", response: object, errors: []),
        ]
    }

    static var authOperations: [Operation] {
        let team = "/v3/teams/{teamId}"
        let support = "/v3/support/organizations/{orgId}"
        return commonOperations + [
            op(
                "POST", "/v3/signup", "Create a user and their organization (plan, home geo, three licenses).",
                "Identity", request: ref("Signup"), success: 201, response: object, errors: [400, 409, 422]),
            op(
                "POST", "/v3/authenticate", "Log into one organization; returns a session token.", "Identity",
                request: ref("Authenticate"), response: ref("AccessToken"), errors: [400, 401]),
            op("GET", "/v3/users/me", "The caller's account.", "Identity", response: ref("User")),
            op(
                "DELETE", "/v3/users/me",
                "Delete my account: the owner closes the organization, anyone else leaves it.", "Identity", success: 204
            ),
            op("GET", "/v3/users", "The organization's members.", "Identity", response: list(ref("User"))),
            op("GET", "/v3/users/{userId}", "A member.", "Identity", response: ref("User")),
            op(
                "DELETE", "/v3/users/{userId}", "Remove a member from the organization.", "Identity", success: 204,
                errors: [400, 401, 403, 404, 409]),
            op(
                "GET", "/v3/users/{userId}/access-tokens", "The caller's personal access tokens.",
                "Personal Access Tokens", response: list(ref("PersonalAccessToken"))),
            op(
                "POST", "/v3/users/{userId}/access-tokens", "Create a personal access token (shown once).",
                "Personal Access Tokens", request: object, success: 201, response: ref("PersonalAccessToken")),
            op(
                "GET", "/v3/users/{userId}/access-tokens/{tokenId}", "A personal access token.",
                "Personal Access Tokens", response: ref("PersonalAccessToken")),
            op(
                "DELETE", "/v3/users/{userId}/access-tokens/{tokenId}", "Revoke a personal access token.",
                "Personal Access Tokens", success: 204),
            op(
                "POST", "/v3/invites", "Invite someone by email (the answer carries the invite token).", "Identity",
                request: object, success: 201, response: object, errors: [400, 401, 403, 409]),
            op(
                "POST", "/v3/invites/accept", "Accept an invite, creating the account if needed.", "Identity",
                request: object, success: 201, response: object, errors: [400, 401, 409, 422]),
            op(
                "GET", "/v3/organizations/me", "The organization the caller is logged into.", "Organizations",
                response: ref("Organization")),
            op(
                "PATCH", "/v3/organizations/me", "Rename the organization or change its retention period (1-365 days).",
                "Organizations", request: object, response: ref("Organization")),
            op(
                "PUT", "/v3/organizations/me/owner", "Transfer ownership to another Organization Admin.",
                "Organizations", request: object, response: ref("Organization")),
            op(
                "POST", "/v3/organizations/me/deactivate", "Deactivate the organization (Organization Admin).",
                "Organizations", response: ref("Organization"), errors: [401, 403, 409]),
            op(
                "GET", "/v3/organizations/me/licenses", "The licenses provisioned at creation.", "Organizations",
                response: ["type": "object", "properties": ["data": ["type": "array", "items": ref("License")]]]),
            op(
                "GET", "/v3/organizations/me/plan", "Plan, trial, credits, payment method, subscriptions.", "Billing",
                response: ref("Plan")),
            op(
                "PUT", "/v3/organizations/me/payment-method",
                "Put a payment method on file (the organization becomes paid).", "Billing", request: object,
                response: ref("Plan")),
            op(
                "DELETE", "/v3/organizations/me/payment-method",
                "Remove the payment method (a Plus organization becomes free).", "Billing", response: ref("Plan")),
            op(
                "GET", "/v3/organizations/me/billing/usage",
                "The Billing and Usage view of a cycle (cycle=current|previous|N).", "Billing", response: ref("Usage")),
            op(
                "GET", "/v3/organizations/me/invoices", "Issued invoices.", "Billing",
                response: ["type": "object", "properties": ["data": ["type": "array", "items": ref("Invoice")]]]),
            op("GET", "/v3/roles", "The predefined roles.", "Roles", response: object),
            op("GET", "/v3/teams", "The organization's teams.", "Teams", response: list(ref("Team"))),
            op(
                "POST", "/v3/teams", "Create a team.", "Teams", request: object, success: 201, response: ref("Team"),
                errors: [400, 401, 403, 409]),
            op("GET", team, "A team.", "Teams", response: ref("Team")),
            op("PATCH", team, "Change a team.", "Teams", request: object, response: ref("Team")),
            op("DELETE", team, "Delete a team.", "Teams", success: 204),
            op("GET", team + "/users", "A team's members.", "Teams", response: list(ref("User"))),
            op(
                "POST", team + "/users", "Add a member to a team.", "Teams", request: object, success: 201,
                errors: [400, 401, 403, 404, 409]),
            op("DELETE", team + "/users/{userId}", "Remove a member from a team.", "Teams", success: 204),
            op(
                "GET", "/v3/users/{userId}/assigned-roles", "A user's roles.", "Roles",
                response: list(ref("AssignedRole"))),
            op(
                "POST", "/v3/users/{userId}/assigned-roles", "Assign a role to a user.", "Roles",
                request: ref("AssignedRole"), success: 201, response: ref("AssignedRole"),
                errors: [400, 401, 403, 404, 409]),
            op(
                "DELETE", "/v3/users/{userId}/assigned-roles/{roleId}", "Remove a user's role.", "Roles", success: 204,
                errors: [401, 403, 404, 409]),
            op("GET", team + "/assigned-roles", "A team's roles.", "Roles", response: list(ref("AssignedRole"))),
            op(
                "POST", team + "/assigned-roles", "Assign a role to a team.", "Roles", request: ref("AssignedRole"),
                success: 201, response: ref("AssignedRole"), errors: [400, 401, 403, 404, 409]),
            op("DELETE", team + "/assigned-roles/{roleId}", "Remove a team's role.", "Roles", success: 204),
            op(
                "GET", "/v3/simulator/clock", "The simulated calendar's current moment.", "Simulator",
                response: ref("Clock"), errors: []),
            op(
                "POST", "/v3/simulator/clock/advance",
                "Move the calendar forward by a duration (support credential), running what falls due.", "Simulator",
                request: object, response: object, errors: [400, 401, 403, 409]),
            op(
                "PUT", "/v3/simulator/clock", "Move the calendar forward to a date (support credential).", "Simulator",
                request: object, response: object, errors: [400, 401, 403, 409]),
            op(
                "GET", "/v3/support/organizations", "Every organization (support credential).", "Support",
                response: list(ref("Organization"))),
            op(
                "GET", support, "An organization's state, history, licenses and subscriptions.", "Support",
                response: ref("SupportOrganization")),
            op(
                "GET", support + "/licenses", "An organization's licenses, also after deactivation.", "Support",
                response: object),
            op("GET", support + "/invoices", "An organization's invoices.", "Support", response: object),
            op(
                "GET", support + "/billing/usage", "An organization's Billing and Usage view of a cycle.", "Support",
                response: ref("Usage")),
            op("GET", support + "/plan", "An organization's plan.", "Support", response: ref("Plan")),
            op(
                "POST", support + "/deactivate", "Deactivate an organization on request.", "Support",
                response: ref("SupportOrganization"), errors: [400, 401, 403, 404, 409]),
            op(
                "POST", support + "/reactivate", "Reactivate a deactivated organization.", "Support",
                response: ref("SupportOrganization"), errors: [400, 401, 403, 404, 409]),
            op("GET", "/v3/support/email-locks", "Locked emails.", "Support", response: object),
            op(
                "DELETE", "/v3/support/email-locks/{email}", "Unlock an email for a new account.", "Support",
                success: 204),
            op(
                "POST", "/internal/v1/introspect",
                "Resolve a token for a geo: user, organization, roles, calendar, licenses.", "Internal",
                request: object, response: object, unixOnly: true),
            op(
                "GET", "/internal/v1/events", "Outbox events after a geo's cursor (long poll).", "Internal",
                response: object, unixOnly: true),
            op(
                "POST", "/internal/v1/usage", "Numbered usage records from a geo (idempotent).", "Internal",
                request: object, response: object, unixOnly: true),
            op(
                "GET", "/internal/v1/clock", "The calendar, for geos.", "Internal", response: ref("Clock"),
                unixOnly: true),
        ]
    }

    static var geoOperations: [Operation] {
        let cp = "/v2/control-planes/{controlPlaneId}"
        let mesh = "/v0/mesh/control-planes/{meshControlPlaneId}"
        var operations =
            commonOperations + [
                op(
                    "GET", "/v2/whoami", "Who the auth node says the caller is, and this geo's name.", "Identity",
                    response: object),
                op(
                    "GET", "/v2/control-planes",
                    "The organization's control planes in this geo (page[size], page[number], filter[name][eq], labels).",
                    "Control Planes", response: list(ref("ControlPlane"))),
                op(
                    "POST", "/v2/control-planes", "Create a control plane.", "Control Planes",
                    request: ref("CreateControlPlane"), success: 201, response: ref("ControlPlane"),
                    errors: [400, 401, 403, 409]),
                op("GET", cp, "A control plane.", "Control Planes", response: ref("ControlPlane")),
                op(
                    "PATCH", cp, "Change a control plane.", "Control Planes", request: object,
                    response: ref("ControlPlane"), errors: [400, 401, 403, 404, 409]),
                op("DELETE", cp, "Delete a control plane and its entities.", "Control Planes", success: 204),
                op(
                    "GET", cp + "/expected-config-hash", "The hash a synced data plane reports.", "DP Nodes",
                    response: object),
                op(
                    "GET", cp + "/expected-config-version", "The configuration version a synced data plane runs.",
                    "DP Nodes", response: object),
                op(
                    "GET", cp + "/core-entities/config", "The full declarative configuration data planes receive.",
                    "Core Entities", response: object),
                op(
                    "GET", cp + "/dp-client-certificates", "Pinned data-plane credentials.", "DP Certificates",
                    response: object),
                op(
                    "POST", cp + "/dp-client-certificates", "Pin a credential (or have one issued) for data planes.",
                    "DP Certificates", request: object, success: 201, response: object),
                op(
                    "GET", cp + "/dp-client-certificates/{certificateId}", "A pinned credential.", "DP Certificates",
                    response: object),
                op(
                    "DELETE", cp + "/dp-client-certificates/{certificateId}",
                    "Unpin a credential: its data planes are refused.", "DP Certificates", success: 204),
                op(
                    "GET", cp + "/nodes", "Data-plane nodes of the control plane.", "DP Nodes",
                    response: [
                        "type": "object",
                        "properties": ["items": ["type": "array", "items": ref("Node")], "page": object],
                    ]),
                op(
                    "GET", cp + "/nodes/{nodeId}", "A data-plane node.", "DP Nodes",
                    response: ["type": "object", "properties": ["item": ref("Node")]]),
                op(
                    "DELETE", cp + "/nodes/{nodeId}", "Remove a node record (not the process).", "DP Nodes",
                    success: 204),
                op("GET", "/v2/portals", "Dev Portals in this geo.", "Dev Portals", response: list(ref("Portal"))),
                op(
                    "POST", "/v2/portals", "Create a Dev Portal.", "Dev Portals", request: ref("Portal"), success: 201,
                    response: ref("Portal"), errors: [400, 401, 403, 409]),
                op("GET", "/v2/portals/{portalId}", "A Dev Portal.", "Dev Portals", response: ref("Portal")),
                op(
                    "PATCH", "/v2/portals/{portalId}", "Change (publish, unpublish) a Dev Portal.", "Dev Portals",
                    request: ref("Portal"), response: ref("Portal")),
                op("DELETE", "/v2/portals/{portalId}", "Delete a Dev Portal.", "Dev Portals", success: 204),
                op(
                    "GET", "/v0/mesh/control-planes", "Mesh global control planes in this geo.", "Mesh",
                    response: list(ref("MeshControlPlane"))),
                op(
                    "POST", "/v0/mesh/control-planes", "Create a Mesh global control plane.", "Mesh",
                    request: ref("MeshControlPlane"), success: 201, response: ref("MeshControlPlane"),
                    errors: [400, 401, 403, 409]),
                op("GET", mesh, "A Mesh global control plane.", "Mesh", response: ref("MeshControlPlane")),
                op(
                    "PATCH", mesh, "Change a Mesh global control plane.", "Mesh", request: object,
                    response: ref("MeshControlPlane")),
                op("DELETE", mesh, "Delete a Mesh global control plane.", "Mesh", success: 204),
                op("GET", mesh + "/api/meshes", "Meshes.", "Mesh", response: object),
                op("GET", mesh + "/api/meshes/{mesh}", "A mesh.", "Mesh", response: ref("MeshResource")),
                op(
                    "PUT", mesh + "/api/meshes/{mesh}", "Create or replace a mesh.", "Mesh",
                    request: ref("MeshResource"), response: ref("MeshResource")),
                op("DELETE", mesh + "/api/meshes/{mesh}", "Delete a mesh and its policies.", "Mesh", success: 204),
                op(
                    "GET", mesh + "/api/meshes/{mesh}/{policyType}",
                    "Policies of a type (meshtrafficpermissions, meshtimeouts, meshretries).", "Mesh", response: object),
                op(
                    "GET", mesh + "/api/meshes/{mesh}/{policyType}/{name}", "A policy.", "Mesh",
                    response: ref("MeshResource")),
                op(
                    "PUT", mesh + "/api/meshes/{mesh}/{policyType}/{name}", "Create or replace a policy.", "Mesh",
                    request: ref("MeshResource"), response: ref("MeshResource")),
                op("DELETE", mesh + "/api/meshes/{mesh}/{policyType}/{name}", "Delete a policy.", "Mesh", success: 204),
                op(
                    "POST", mesh + "/api/tokens/zone", "A zone token (spat_) for one zone.", "Mesh", request: object,
                    success: 201, response: object),
                op(
                    "GET", mesh + "/api/zones", "Zones and their insight (connect and disconnect times).", "Mesh",
                    response: object),
                op("GET", mesh + "/api/zones/{zone}", "A zone.", "Mesh", response: ref("Zone")),
                op(
                    "GET", "/internal/v1/dp/sync", "A data plane's push stream (newline-delimited JSON).", "Internal",
                    response: object, unixOnly: true),
                op(
                    "POST", "/internal/v1/dp/ping", "A data plane's heartbeat with its config hash.", "Internal",
                    request: object, success: 204, unixOnly: true),
                op(
                    "POST", "/internal/v1/dp/usage", "Numbered API-call counts from a data plane (idempotent).",
                    "Internal", request: object, response: object, unixOnly: true),
                op(
                    "GET", "/internal/v1/zone/sync", "A zone's push stream.", "Internal", response: object,
                    unixOnly: true),
                op(
                    "POST", "/internal/v1/zone/ping", "A zone's heartbeat.", "Internal", request: object, success: 204,
                    unixOnly: true),
                op(
                    "POST", "/internal/v1/operator/dp-credentials",
                    "Issue a data-plane credential for the operator (dp start).", "Internal", request: object,
                    success: 201, response: object, unixOnly: true),
                op(
                    "POST", "/internal/v1/operator/zone-tokens", "Issue a zone token for the operator (zone start).",
                    "Internal", request: object, success: 201, response: object, unixOnly: true),
                op(
                    "POST", "/internal/v1/operator/control-planes/{controlPlaneId}/decommission",
                    "Decommission one control plane.", "Internal", response: object, unixOnly: true),
                op(
                    "POST", "/internal/v1/operator/control-planes/{controlPlaneId}/recommission",
                    "Recommission one control plane.", "Internal", response: object, unixOnly: true),
                op(
                    "GET", "/internal/v1/status", "Pending usage, event cursor, decommissioned organizations.",
                    "Internal", response: object, unixOnly: true),
                op(
                    "GET", "/internal/v1/operator/organization-objects",
                    "What the geo holds for each organization named by ?organization= (the console).", "Internal",
                    response: object, unixOnly: true),
            ]
        for scope in EntityScope.all {
            let item = scope.basePath + "/{\(scope.itemParameter)}"
            let schema = ref(scope.kind.rawValue.prefix(1).uppercased() + scope.kind.rawValue.dropFirst())
            let name = scope.kind.displayName
            let under = scope.parent.map { " of a \($0.kind.displayName)" } ?? ""
            operations += [
                op(
                    "GET", scope.basePath, "List \(scope.kind.collection)\(under) (size, offset, tags).",
                    "Core Entities", response: ref("EntityList")),
                op(
                    "POST", scope.basePath, "Create a \(name)\(under).", "Core Entities", request: schema, success: 201,
                    response: schema, errors: [400, 401, 403, 404, 409]),
                op("GET", item, "A \(name) by id or name.", "Core Entities", response: schema),
                op(
                    "PUT", item, "Create or replace a \(name) by id or name.", "Core Entities", request: schema,
                    response: schema, errors: [400, 401, 403, 404, 409]),
                op(
                    "PATCH", item, "Change a \(name).", "Core Entities", request: schema, response: schema,
                    errors: [400, 401, 403, 404, 409]),
                op("DELETE", item, "Delete a \(name) (204 also when it did not exist).", "Core Entities", success: 204),
            ]
        }
        return operations
    }
}
