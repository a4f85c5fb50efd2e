import KonnectCore
import KonnectStorage

/// The billing ledger's rules around the stores (P1, P2, B2-B4): pricing the open cycle with
/// `BillingCalculator`, issuing its invoice, and the plan and Billing and Usage views.
struct BillingLedger: Sendable {
    let organizations: OrganizationStore
    let usageSpans: UsageSpanStore
    let apiCalls: APICallStore
    let invoices: InvoiceStore
    let subscriptions: SubscriptionStore
    let ids: IdentifierSource
    let rateCard: RateCard

    /// Credits not used yet. The calculator lets them pay only for usage before the trial's end (P1), so
    /// they are worthless for anything later, and expire when the cycle covering the trial's end closes.
    func creditsAvailable(_ organization: OrganizationRecord) -> Money {
        guard organization.creditsExpired == .zero else { return .zero }
        return max(.zero, organization.creditsGranted - organization.creditsUsed)
    }

    /// Prices the open cycle's window up to `until` (the current view, or the invoice at its end).
    func priceOpenCycle(
        _ db: Transaction, _ organization: OrganizationRecord, until: SimTime, usage known: OrganizationUsage? = nil
    ) throws -> Invoice {
        let cycle = BillingCycle(index: organization.nextCycle, createdAt: organization.createdAt)
        let window = BillingWindow(cycle: cycle, from: organization.billingFrom, to: min(until, cycle.end))
        let usage = try known ?? usageSpans.usage(db, organizationID: organization.id)
        let calls = try apiCalls.uninvoiced(db, organizationID: organization.id, cycle: cycle.index)
        return BillingCalculator.invoice(
            window: window, rateCard: rateCard, services: usage.services, portals: usage.portals, calls: calls,
            trialEnd: organization.trialEndsAt, creditsAvailable: creditsAvailable(organization),
            contract: organization.plan == .enterprise)
    }

    /// Issues the invoice of the open cycle up to `moment` (its end, or a deactivation: D3) and moves on.
    func closeCycle(
        _ work: UnitOfWork, organizationID: String, at moment: SimTime, final: Bool,
        organization known: OrganizationRecord? = nil, usage: OrganizationUsage? = nil
    ) throws {
        guard let organization = try known ?? organizations.organization(work.tx, id: organizationID) else { return }
        let invoice = try priceOpenCycle(work.tx, organization, until: moment, usage: usage)
        let issued = invoice.periodStart < invoice.periodEnd
        if issued {
            // One invoice per organization and billing period: its id derives from them.
            let id = ids.derived(
                from: "invoice/\(organizationID)/\(invoice.cycle.index)/\(invoice.periodStart.seconds)")
            guard case .object(var body) = invoice.json else { return }
            body["id"] = .string(id)
            body["organization_id"] = .string(organizationID)
            body["issued_at"] = moment.json
            body["status"] = "issued"
            body["currency"] = .string(rateCard.currency)
            let hasPaymentMethod = organization.paymentMethod != nil
            body["payment"] = InvoicePayment.issued(
                total: invoice.total, contract: organization.plan == .enterprise, hasPaymentMethod: hasPaymentMethod
            ).json(hasPaymentMethod: hasPaymentMethod)
            try invoices.issue(work, id: id, organizationID: organizationID, invoice, body: .object(body), at: moment)
            try apiCalls.markInvoiced(work, organizationID: organizationID, cycle: invoice.cycle.index, invoiceID: id)
        }
        // Credits used, and the next cycle (unless billing stopped here for good, D3).
        try organizations.cycleClosed(
            work, id: organizationID, creditsApplied: issued ? invoice.creditsApplied : .zero, opensNext: !final)
        // Once the cycle covering the trial's end is invoiced, what is left of the credits has expired.
        if let trialEnd = organization.trialEndsAt, !final, invoice.cycle.end >= trialEnd {
            try organizations.expireCredits(work, id: organizationID)
        }
    }

    /// `GET /v3/organizations/me/plan`: plan terms, subscriptions, trial and credits (P1, P2).
    func plan(_ db: Transaction, organizationID: String, now: SimTime) throws -> JSON {
        guard let organization = try organizations.organization(db, id: organizationID) else {
            throw APIError.notFound("The requested organization was not found")
        }
        let plan = organization.plan
        let hasPayment = organization.paymentMethod != nil
        var body = JSONObject([
            ("plan", .string(plan.rawValue)), ("display_name", .string(plan.displayName)),
            ("support", .string(PlanTerms.support(plan))),
            ("professional_services", .bool(PlanTerms.professionalServices(plan))),
            ("payment_method_on_file", .bool(hasPayment)),
            ("free", .bool(plan == .plus && !hasPayment)), ("paid", .bool(plan == .enterprise || hasPayment)),
            (
                "subscriptions",
                .array(try subscriptions.subscriptions(db, organizationID: organizationID).map(\.json))
            ),
        ])
        if plan == .enterprise {
            body["contract"] = ["billing": "contract", "started_at": organization.createdAt.json]
        } else {
            let trialEnd = organization.trialEndsAt
            body["trial"] = [
                "start": organization.createdAt.json, "end": trialEnd?.json ?? .null,
                "active": .bool(trialEnd.map { now < $0 } ?? false),
            ]
            body["credits"] = try credits(db, organization, now: now)
        }
        return .object(body)
    }

    /// Trial credits: granted, used (including what the open cycle would use so far), left, expired (P1).
    func credits(_ db: Transaction, _ organization: OrganizationRecord, now: SimTime) throws -> JSON {
        let granted = organization.creditsGranted
        let used = organization.creditsUsed
        let expired = organization.creditsExpired
        var pending = Money.zero
        if expired == .zero, organization.state == .active {
            pending = try priceOpenCycle(db, organization, until: now).creditsApplied
        }
        // After the trial, unused credits are lost even before the last trial cycle is invoiced.
        let lost =
            organization.trialClosed ? (expired > .zero ? expired : max(.zero, granted - used - pending)) : .zero
        return [
            "granted": granted.json, "used": (used + pending).json, "expired": lost.json,
            "left": (organization.trialClosed ? Money.zero : max(.zero, granted - used - pending)).json,
            "expires_at": organization.trialEndsAt?.json ?? .null, "currency": .string(rateCard.currency),
        ]
    }

    /// The Billing and Usage view of one cycle (`current`, `previous` or its number, B4): issued invoices
    /// for it and, while it is open, the usage priced so far.
    func usageView(_ db: Transaction, organizationID: String, selector: String, now: SimTime) throws -> JSON {
        guard let organization = try organizations.organization(db, id: organizationID) else {
            throw APIError.notFound("The requested organization was not found")
        }
        let currentIndex = BillingCycle(containing: now, createdAt: organization.createdAt).index
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
        let cycle = BillingCycle(index: index, createdAt: organization.createdAt)
        var parts = try invoices.invoices(db, organizationID: organizationID, cycle: index)
        let open = organization.state == .active && organization.nextCycle == index
        let hasPaymentMethod = organization.paymentMethod != nil
        if open {
            var preview = try priceOpenCycle(db, organization, until: now).json
            preview["status"] = "open"
            preview["payment"] =
                (organization.plan == .enterprise ? InvoicePayment.contract : InvoicePayment.open).json(
                    hasPaymentMethod: hasPaymentMethod)
            parts.append(preview)
        }
        var view = JSONObject([
            ("organization_id", .string(organizationID)), ("cycle", .int(index)),
            ("cycle_start", cycle.start.json), ("cycle_end", cycle.end.json),
            ("status", .string(open ? "open" : "closed")), ("currency", .string(rateCard.currency)),
            ("plan", .string(organization.plan.rawValue)), ("payment_method_on_file", .bool(hasPaymentMethod)),
            (
                "included",
                [
                    "portals": .int(rateCard.portalsIncluded), "api_calls": .int(rateCard.apiCallsIncluded),
                    "service_per_cycle": rateCard.servicePerCycle.json,
                    "portal_per_cycle": rateCard.portalPerCycle.json,
                    "api_calls_per_million": rateCard.apiCallsPerMillion.json,
                ]
            ),
            ("periods", .array(parts)),
        ])
        if organization.plan == .plus { view["credits"] = try credits(db, organization, now: now) }
        return .object(view)
    }
}
