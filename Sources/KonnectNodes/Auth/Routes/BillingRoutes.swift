import KonnectCore
import KonnectHTTP

/// Plans, payment methods, trial credits, usage and invoices: the Billing and Usage view (P1, P2, B2-B4).
struct BillingRoutes: Sendable {
    let db: AuthDatabase
    let clock: CalendarClock
    let principals: PrincipalResolver
    let organizations: OrganizationStore
    let views: BillingViews

    var routes: [Router.Route] {
        [
            Router.route("GET", "/v3/organizations/me/plan") { request in
                let principal = try billingPrincipal(request)
                return HTTPResponse.json(try views.plan(principal.organizationID))
            },
            Router.route("PUT", "/v3/organizations/me/payment-method", setPaymentMethod),
            Router.route("DELETE", "/v3/organizations/me/payment-method", removePaymentMethod),
            Router.route("GET", "/v3/organizations/me/billing/usage") { request in
                let principal = try billingPrincipal(request)
                return HTTPResponse.json(
                    try views.usage(principal.organizationID, selector: request.query("cycle") ?? "current"))
            },
            Router.route("GET", "/v3/organizations/me/invoices") { request in
                let principal = try billingPrincipal(request)
                return HTTPResponse.json(["data": .array(try views.invoices(principal.organizationID))])
            },
        ]
    }

    /// Only Organization Admin or Billing Admin see billing (issue 5).
    private func billingPrincipal(_ request: APIRequest) throws -> Principal {
        let principal = try principals.principal(request)
        guard principal.permissions.canManageBilling else {
            throw APIError(
                status: 403, title: "Permission denied",
                detail: "Billing needs the Organization Admin or Billing Admin role")
        }
        return principal
    }

    func setPaymentMethod(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try billingPrincipal(request)
        var reader = try ObjectReader(request.json())
        let token = reader.string("token", required: true, nullable: false, minLength: 1, maxLength: 255)
        try reader.finish()
        guard let token else { throw APIError.badRequest("Invalid request") }
        let now = clock.now
        try db.write { work in
            try organizations.setPaymentMethod(work, id: principal.organizationID, token: token, at: now)
        }
        return HTTPResponse.json(try views.plan(principal.organizationID))
    }

    /// Without a payment method a Plus organization is free, and may be deactivated for inactivity (P2, D2).
    func removePaymentMethod(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try billingPrincipal(request)
        let now = clock.now
        try db.write { work in try organizations.removePaymentMethod(work, id: principal.organizationID, at: now) }
        return HTTPResponse.json(try views.plan(principal.organizationID))
    }
}
