import KonnectCore
import KonnectHTTP

/// Kong Support's API (D7): every organization, its history, licenses, billing; deactivation,
/// reactivation and email unlocks. Only the support credential gets in.
struct SupportRoutes: Sendable {
    let db: AuthDatabase
    let clock: CalendarClock
    let support: SupportGate
    let organizations: OrganizationStore
    let users: UserStore
    let history: StateHistoryStore
    let subscriptions: SubscriptionStore
    let emailLocks: EmailLockStore
    let transitions: OrganizationTransitions
    let lookup: OrganizationLookup
    let licenses: LicenseListing
    let billing: BillingViews

    var routes: [Router.Route] {
        [
            Router.route("GET", "/v3/support/organizations", list),
            Router.route("GET", "/v3/support/organizations/{orgId}") { request in
                try support.require(request)
                return HTTPResponse.json(try view(try organizationID(request)))
            },
            Router.route("GET", "/v3/support/organizations/{orgId}/licenses") { request in
                try support.require(request)
                return HTTPResponse.json(["data": .array(try licenses.licenses(of: try organizationID(request)))])
            },
            Router.route("GET", "/v3/support/organizations/{orgId}/invoices") { request in
                try support.require(request)
                return HTTPResponse.json(["data": .array(try billing.invoices(try organizationID(request)))])
            },
            Router.route("GET", "/v3/support/organizations/{orgId}/billing/usage") { request in
                try support.require(request)
                let id = try organizationID(request)
                return HTTPResponse.json(try billing.usage(id, selector: request.query("cycle") ?? "current"))
            },
            Router.route("GET", "/v3/support/organizations/{orgId}/plan") { request in
                try support.require(request)
                return HTTPResponse.json(try billing.plan(try organizationID(request)))
            },
            Router.route("POST", "/v3/support/organizations/{orgId}/deactivate") { request in
                try support.require(request)
                let id = try organizationID(request)
                let now = clock.now
                let transition = try db.write { work in
                    try transitions.deactivate(work, organizationID: id, reason: .support, actor: "support", at: now)
                }
                Log.info(OrganizationTransitions.describe(transition, of: id))
                return HTTPResponse.json(try view(id))
            },
            Router.route("POST", "/v3/support/organizations/{orgId}/reactivate") { request in
                try support.require(request)
                let id = try organizationID(request)
                let now = clock.now
                let transition = try db.write { work in
                    try transitions.reactivate(work, organizationID: id, actor: "support", at: now)
                }
                Log.info(OrganizationTransitions.describe(transition, of: id))
                return HTTPResponse.json(try view(id))
            },
            Router.route("GET", "/v3/support/email-locks") { request in
                try support.require(request)
                let locks = try db.read { tx in try emailLocks.locks(tx) }
                return HTTPResponse.json([
                    "data": .array(
                        locks.map {
                            [
                                "email": .string($0.email), "organization_id": .string($0.organizationID),
                                "locked_at": $0.lockedAt.json,
                            ]
                        })
                ])
            },
            Router.route("DELETE", "/v3/support/email-locks/{email}") { request in
                try support.require(request)
                let key = EmailAddress.canonical(request.parameter("email"))
                let removed = try db.write { work in try emailLocks.unlock(work, emailKey: key) }
                guard removed else { throw APIError.notFound("No lock on the email \(key)") }
                Log.info("support unlocked the email \(key)")
                return .noContent
            },
        ]
    }

    /// The organization the path names: 400 unless a UUID, 404 when unknown.
    private func organizationID(_ request: APIRequest) throws -> String {
        let id = request.parameter("orgId")
        try AuthProblem.requireUUID(id, field: "orgId")
        _ = try lookup.organization(id)
        return id
    }

    /// Everything support sees about an organization: state, history, licenses, subscriptions, lock.
    func view(_ id: String) throws -> JSON {
        let (found, owner, changes, plan, locked) = try db.read {
            tx -> (OrganizationRecord?, UserRecord?, [StateChange], [SubscriptionRecord], Bool) in
            guard let organization = try organizations.organization(tx, id: id) else {
                return (nil, nil, [], [], false)
            }
            let owner = try users.user(tx, id: organization.ownerID)
            return (
                organization, owner, try history.history(tx, organizationID: id),
                try subscriptions.subscriptions(tx, organizationID: id),
                try owner.map { try emailLocks.isLocked(tx, emailKey: $0.emailKey) } ?? false
            )
        }
        guard let organization = found else { throw APIError.notFound("The requested organization was not found") }
        var body = organization.json
        body["owner_email"] = .optional(owner?.email)
        body["deactivated_at"] = organization.deactivatedAt?.json ?? .null
        body["deactivation_reason"] = .optional(organization.deactivationReason?.rawValue)
        body["email_locked"] = .bool(locked)
        body["state_history"] = .array(changes.map(\.json))
        body["subscriptions"] = .array(plan.map(\.json))
        body["licenses"] = .array(try licenses.licenses(of: id))
        return body
    }

    func list(_ request: APIRequest) throws -> HTTPResponse {
        try support.require(request)
        let page = try PageRequest(request)
        var found = try db.read { tx in try organizations.all(tx) }
        if let email = request.query("filter[owner_email]") {
            found = found.filter { $0.ownerEmail?.lowercased() == email.lowercased() }
        }
        if let name = request.query("filter[name]") { found = found.filter { $0.organization.name == name } }
        if let state = request.query("filter[state]") {
            found = found.filter { $0.organization.state.rawValue == state }
        }
        return page.response(
            found.map { entry in
                var body = entry.organization.json
                body["owner_email"] = .optional(entry.ownerEmail)
                return body
            })
    }
}
