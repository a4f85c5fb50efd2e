import KonnectCore
import KonnectHTTP
import KonnectStorage

/// Plans, payment methods, trial credits, usage and invoices: the Billing and Usage view (P1, P2, B2-B4).
extension AuthNode {
    var billingRoutes: [Router.Route] {
        [
            Router.route("GET", "/v3/organizations/me/plan") { request in
                let principal = try self.billingPrincipal(request)
                return HTTPResponse.json(try self.planJSON(principal.organizationID))
            },
            Router.route("PUT", "/v3/organizations/me/payment-method", setPaymentMethod),
            Router.route("DELETE", "/v3/organizations/me/payment-method") { request in
                let principal = try self.billingPrincipal(request)
                try self.db.write { db in
                    try db.execute(
                        "UPDATE organizations SET free_since = CASE WHEN payment_method IS NULL THEN free_since ELSE ? END, payment_method = NULL, updated_at = ? WHERE id = ?",
                        .time(self.now), .time(self.now), .text(principal.organizationID))
                }
                return HTTPResponse.json(try self.planJSON(principal.organizationID))
            },
            Router.route("GET", "/v3/organizations/me/billing/usage", usage),
            Router.route("GET", "/v3/organizations/me/invoices") { request in
                let principal = try self.billingPrincipal(request)
                return HTTPResponse.json(["data": .array(try self.invoices(principal.organizationID))])
            },
        ]
    }

    /// Only Organization Admin or Billing Admin see billing (issue 5).
    func billingPrincipal(_ request: APIRequest) throws -> Principal {
        let principal = try self.principal(request)
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
        try db.write { db in
            try db.execute(
                "UPDATE organizations SET payment_method = ?, updated_at = ? WHERE id = ?", .text(token), .time(now),
                .text(principal.organizationID))
        }
        return HTTPResponse.json(try planJSON(principal.organizationID))
    }

    /// Services and Dev Portals over time.
    struct OrganizationUsage {
        var services: [UsageSpan]
        var portals: [UsageSpan]
    }

    func usageRecords(_ db: Transaction, organizationID: String) throws -> OrganizationUsage {
        let spans = try db.query("SELECT * FROM usage_spans WHERE org_id = ? ORDER BY start_at", .text(organizationID))
        func span(_ row: Row) -> UsageSpan {
            UsageSpan(
                id: row.string("object_id") ?? "", name: row.string("name") ?? "", geo: row.string("geo") ?? "",
                start: row.time("start_at") ?? SimTime(seconds: 0), end: row.time("end_at"),
                scope: row.string("scope") ?? "")
        }
        return OrganizationUsage(
            services: spans.filter { $0.string("kind") == "service" }.map(span),
            portals: spans.filter { $0.string("kind") == "portal" }.map(span))
    }

    /// The API calls attributed to a cycle and not yet invoiced.
    func openCalls(_ db: Transaction, organizationID: String, cycle: Int64) throws -> [APICallRecord] {
        try db.query(
            "SELECT at, SUM(count) AS n FROM api_calls WHERE org_id = ? AND cycle = ? AND invoice_id IS NULL GROUP BY at ORDER BY at",
            .text(organizationID), .int(cycle)
        ).map { APICallRecord(at: $0.time("at") ?? SimTime(seconds: 0), count: $0.int("n") ?? 0) }
    }

    /// Credits not used yet. The calculator lets them pay only for usage before the trial's end (P1), so
    /// they are worthless for anything later, and expire when the cycle covering the trial's end closes.
    func creditsAvailable(_ row: Row) -> Money {
        guard (row.int("credits_expired") ?? 0) == 0 else { return .zero }
        return Money(cents: max(0, (row.int("credits_granted") ?? 0) - (row.int("credits_used") ?? 0)))
    }

    /// Prices the open cycle's window up to `until` (the current view, or the invoice at its end).
    func priceOpenCycle(_ db: Transaction, _ row: Row, until: SimTime, usage known: OrganizationUsage? = nil) throws
        -> Invoice
    {
        let created = row.time("created_at") ?? until
        let cycle = BillingCycle(index: row.int("next_cycle") ?? 0, createdAt: created)
        let window = BillingWindow(cycle: cycle, from: row.time("billing_from"), to: min(until, cycle.end))
        let usage = try known ?? usageRecords(db, organizationID: row.string("id") ?? "")
        let calls = try openCalls(db, organizationID: row.string("id") ?? "", cycle: cycle.index)
        return BillingCalculator.invoice(
            window: window, rateCard: configuration.rateCard, services: usage.services, portals: usage.portals,
            calls: calls,
            trialEnd: row.time("trial_ends_at"), creditsAvailable: creditsAvailable(row),
            contract: row.string("plan") == PlanKind.enterprise.rawValue)
    }

    /// Issues the invoice of the open cycle up to `at` (its end, or a deactivation: D3) and moves on.
    func closeCycle(
        _ db: Transaction, organizationID: String, at moment: SimTime, final: Bool, row known: Row? = nil,
        usage: OrganizationUsage? = nil
    ) throws {
        guard let row = try known ?? db.query("SELECT * FROM organizations WHERE id = ?", .text(organizationID)).first
        else { return }
        let invoice = try priceOpenCycle(db, row, until: moment, usage: usage)
        if invoice.periodStart < invoice.periodEnd {
            // One invoice per organization and billing period: its id derives from them.
            let id = ids.derived(
                from: "invoice/\(organizationID)/\(invoice.cycle.index)/\(invoice.periodStart.seconds)")
            guard case .object(var body) = invoice.json else { return }
            body["id"] = .string(id)
            body["organization_id"] = .string(organizationID)
            body["issued_at"] = moment.json
            body["status"] = "issued"
            body["currency"] = .string(configuration.rateCard.currency)
            try db.execute(
                """
                INSERT INTO invoices(id, org_id, cycle, period_start, period_end, body, subtotal, credits_applied, total, issued_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, .text(id), .text(organizationID), .int(invoice.cycle.index), .time(invoice.periodStart),
                .time(invoice.periodEnd),
                .text(JSON.object(body).text), .int(invoice.subtotal.cents), .int(invoice.creditsApplied.cents),
                .int(invoice.total.cents), .time(moment))
            try db.execute(
                "UPDATE api_calls SET invoice_id = ? WHERE org_id = ? AND cycle = ? AND invoice_id IS NULL", .text(id),
                .text(organizationID),
                .int(invoice.cycle.index))
        }
        // Credits used, and the next cycle (unless billing stopped here for good, D3).
        try db.execute(
            "UPDATE organizations SET credits_used = credits_used + ?, next_cycle = next_cycle + ?, billing_from = NULL WHERE id = ?",
            .int(invoice.periodStart < invoice.periodEnd ? invoice.creditsApplied.cents : 0), .int(final ? 0 : 1),
            .text(organizationID))
        // Once the cycle covering the trial's end is invoiced, what is left of the credits has expired.
        if let trialEnd = row.time("trial_ends_at"), !final, invoice.cycle.end >= trialEnd {
            try db.execute(
                "UPDATE organizations SET credits_expired = MAX(0, credits_granted - credits_used) WHERE id = ? AND credits_expired = 0",
                .text(organizationID))
        }
    }

    func invoices(_ organizationID: String) throws -> [JSON] {
        try db.read { db in
            try db.query(
                "SELECT body FROM invoices WHERE org_id = ? ORDER BY period_start, issued_at", .text(organizationID)
            ).map { $0.json("body") }
        }
    }

    /// `GET /v3/organizations/me/plan`.
    func planJSON(_ organizationID: String) throws -> JSON {
        let now = self.now
        return try db.read { db -> JSON in
            guard let row = try db.query("SELECT * FROM organizations WHERE id = ?", .text(organizationID)).first else {
                throw APIError.notFound("The requested organization was not found")
            }
            let plan = PlanKind(rawValue: row.string("plan") ?? "") ?? .plus
            let subscriptions = try db.query(
                "SELECT * FROM subscriptions WHERE org_id = ? ORDER BY name", .text(organizationID))
            let hasPayment = row.string("payment_method") != nil
            var body = JSONObject([
                ("plan", .string(plan.rawValue)), ("display_name", .string(plan.displayName)),
                ("support", .string(PlanTerms.support(plan))),
                ("professional_services", .bool(PlanTerms.professionalServices(plan))),
                ("payment_method_on_file", .bool(hasPayment)),
                ("free", .bool(plan == .plus && !hasPayment)), ("paid", .bool(plan == .enterprise || hasPayment)),
                ("subscriptions", .array(subscriptions.map(subscriptionJSON))),
            ])
            if plan == .enterprise {
                body["contract"] = ["billing": "contract", "started_at": row.time("created_at")?.json ?? .null]
            } else {
                let trialEnd = row.time("trial_ends_at")
                let granted = Money(cents: row.int("credits_granted") ?? 0)
                let used = Money(cents: row.int("credits_used") ?? 0)
                let expired = Money(cents: row.int("credits_expired") ?? 0)
                var pending = Money.zero
                if expired == .zero, row.string("state") == OrganizationState.active.rawValue {
                    pending = try priceOpenCycle(db, row, until: now).creditsApplied
                }
                // After the trial, unused credits are lost even before the last trial cycle is invoiced.
                let lost =
                    row.bool("trial_closed")
                    ? (expired > .zero ? expired : max(.zero, granted - used - pending)) : .zero
                body["trial"] = [
                    "start": row.time("created_at")?.json ?? .null, "end": trialEnd?.json ?? .null,
                    "active": .bool(trialEnd.map { now < $0 } ?? false),
                ]
                body["credits"] = [
                    "granted": granted.json, "used": (used + pending).json, "expired": lost.json,
                    "left": (row.bool("trial_closed") ? Money.zero : max(.zero, granted - used - pending)).json,
                    "expires_at": trialEnd?.json ?? .null, "currency": .string(configuration.rateCard.currency),
                ]
            }
            return .object(body)
        }
    }

    /// `GET /v3/organizations/me/billing/usage?cycle=current|previous|N`.
    func usage(_ request: APIRequest) throws -> HTTPResponse {
        let principal = try billingPrincipal(request)
        return HTTPResponse.json(try usageView(principal.organizationID, selector: request.query("cycle") ?? "current"))
    }

    /// The Billing and Usage view of one cycle: issued invoices for it and, while it is open, the
    /// usage priced so far.
    func usageView(_ organizationID: String, selector: String) throws -> JSON {
        let now = self.now
        return try db.read { db -> JSON in
            guard let row = try db.query("SELECT * FROM organizations WHERE id = ?", .text(organizationID)).first else {
                throw APIError.notFound("The requested organization was not found")
            }
            let created = row.time("created_at") ?? now
            let currentIndex = BillingCycle(containing: now, createdAt: created).index
            let index: Int64
            switch selector {
            case "current": index = currentIndex
            case "previous": index = currentIndex - 1
            default:
                guard let value = Int64(selector), value >= 0 else {
                    throw APIError.invalid(
                        field: "cycle", rule: "invalid",
                        reason: "must be current, previous or a cycle number from 0, got \"\(selector.prefix(32))\"")
                }
                index = value
            }
            guard index >= 0, index <= currentIndex else {
                throw APIError.notFound("Cycle \(index) has not started; the current cycle is \(currentIndex)")
            }
            let cycle = BillingCycle(index: index, createdAt: created)
            let issued = try db.query(
                "SELECT body FROM invoices WHERE org_id = ? AND cycle = ? ORDER BY period_start", .text(organizationID),
                .int(index))
            var parts = issued.map { $0.json("body") }
            let open = row.string("state") == OrganizationState.active.rawValue && (row.int("next_cycle") ?? 0) == index
            if open {
                var preview = try priceOpenCycle(db, row, until: now).json
                preview["status"] = "open"
                parts.append(preview)
            }
            return [
                "organization_id": .string(organizationID), "cycle": .int(index),
                "cycle_start": cycle.start.json, "cycle_end": cycle.end.json,
                "status": .string(open ? "open" : "closed"), "currency": .string(configuration.rateCard.currency),
                "periods": .array(parts),
            ]
        }
    }
}
