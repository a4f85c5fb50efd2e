import KonnectCore
import KonnectStorage

/// An organization as stored: identity, owner, plan, lifecycle state and retention (A5), the billing
/// account (trial, credits, payment method, open cycle: P1, P2, B2) and the activity the inactivity
/// rule reads (D2).
struct OrganizationRecord: Sendable {
    var id: String
    var name: String
    var ownerID: String
    var plan: PlanKind
    var homeGeo: String
    var state: OrganizationState
    var createdAt: SimTime
    var updatedAt: SimTime
    var retentionDays: Int64
    var deactivatedAt: SimTime?
    var deactivationReason: DeactivationReason?
    var trialEndsAt: SimTime?
    var trialClosed: Bool
    var creditsGranted: Money
    var creditsUsed: Money
    var creditsExpired: Money
    var paymentMethod: String?
    /// The next cycle whose end has not been processed (B2).
    var nextCycle: Int64
    /// Where billing of the open cycle starts (creation or a reactivation); nil: the cycle's start.
    var billingFrom: SimTime?
    var lastLoginAt: SimTime?
    var lastAPICallAt: SimTime?
    /// When the organization last became free (its payment method removed).
    var freeSince: SimTime?
    var reactivatedAt: SimTime?

    init(_ row: Row) {
        id = row.string("id") ?? ""
        name = row.string("name") ?? ""
        ownerID = row.string("owner_id") ?? ""
        plan = PlanKind(rawValue: row.string("plan") ?? "") ?? .plus
        homeGeo = row.string("home_geo") ?? ""
        state = OrganizationState(rawValue: row.string("state") ?? "") ?? .active
        createdAt = row.time("created_at") ?? SimTime(seconds: 0)
        updatedAt = row.time("updated_at") ?? createdAt
        retentionDays = row.int("retention_days") ?? OrganizationLifecycle.defaultRetentionDays
        deactivatedAt = row.time("deactivated_at")
        deactivationReason = row.string("deactivation_reason").flatMap(DeactivationReason.init(rawValue:))
        trialEndsAt = row.time("trial_ends_at")
        trialClosed = row.bool("trial_closed")
        creditsGranted = Money(cents: row.int("credits_granted") ?? 0)
        creditsUsed = Money(cents: row.int("credits_used") ?? 0)
        creditsExpired = Money(cents: row.int("credits_expired") ?? 0)
        paymentMethod = row.string("payment_method")
        nextCycle = row.int("next_cycle") ?? 0
        billingFrom = row.time("billing_from")
        lastLoginAt = row.time("last_login_at")
        lastAPICallAt = row.time("last_api_call_at")
        freeSince = row.time("free_since")
        reactivatedAt = row.time("reactivated_at")
    }

    /// Where the billing window open now starts: the open cycle's start, or a reactivation inside it.
    var openBillingWindowStart: SimTime {
        BillingWindow(cycle: BillingCycle(index: nextCycle, createdAt: createdAt), from: billingFrom).from
    }

    /// The lifecycle value the core's transitions start from (A5).
    var lifecycle: OrganizationLifecycle {
        OrganizationLifecycle(
            state: state, deactivatedAt: deactivatedAt, deactivationReason: deactivationReason,
            retentionDays: retentionDays)
    }
}

/// Organizations (`organizations`).
struct OrganizationStore {
    let ids: IdentifierSource

    func organization(_ db: Transaction, id: String) throws -> OrganizationRecord? {
        try db.query("SELECT * FROM organizations WHERE id = ?", .text(id)).first.map(OrganizationRecord.init)
    }

    /// The organizations the calendar schedules: active and deactivated ones (B1).
    func scheduled(_ db: Transaction) throws -> [OrganizationRecord] {
        try db.query("SELECT * FROM organizations WHERE state IN ('active', 'inactive')").map(OrganizationRecord.init)
    }

    /// Every organization with its owner's email, oldest first (support's list).
    func all(_ db: Transaction) throws -> [(organization: OrganizationRecord, ownerEmail: String?)] {
        try db.query(
            "SELECT o.*, u.email AS owner_email FROM organizations o JOIN users u ON u.id = o.owner_id ORDER BY o.created_at, o.id"
        ).map { (OrganizationRecord($0), $0.string("owner_email")) }
    }

    /// A new organization in the state its lifecycle starts in, with its trial and credits (P1); returns its id.
    func create(
        _ work: UnitOfWork, name: String, plan: PlanKind, geo: String, ownerID: String,
        lifecycle: OrganizationLifecycle,
        trialEndsAt: SimTime?, credits: Money, at moment: SimTime
    ) throws -> String {
        let id = try ids.next(work.tx)
        try work.tx.execute(
            """
            INSERT INTO organizations(id, name, owner_id, plan, home_geo, state, created_at, updated_at, retention_days,
                trial_ends_at, trial_closed, credits_granted, next_cycle, billing_from)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
            """, .text(id), .text(name), .text(ownerID), .text(plan.rawValue), .text(geo),
            .text(lifecycle.state.rawValue), .time(moment), .time(moment), .int(lifecycle.retentionDays),
            .time(trialEndsAt), .bool(trialEndsAt == nil), .int(credits.cents), .time(moment))
        return id
    }

    func rename(_ work: UnitOfWork, id: String, to name: String, at moment: SimTime) throws {
        try work.tx.execute(
            "UPDATE organizations SET name = ?, updated_at = ? WHERE id = ?", .text(name), .time(moment), .text(id))
    }

    func setRetention(_ work: UnitOfWork, id: String, days: Int64, at moment: SimTime) throws {
        try work.tx.execute(
            "UPDATE organizations SET retention_days = ?, updated_at = ? WHERE id = ?", .int(days), .time(moment),
            .text(id))
    }

    func setOwner(_ work: UnitOfWork, id: String, userID: String, at moment: SimTime) throws {
        try work.tx.execute(
            "UPDATE organizations SET owner_id = ?, updated_at = ? WHERE id = ?", .text(userID), .time(moment),
            .text(id))
    }

    /// Persists exactly what a lifecycle transition returned: state and deactivation (A5).
    func apply(_ work: UnitOfWork, _ transition: LifecycleTransition, to id: String) throws {
        try work.tx.execute(
            "UPDATE organizations SET state = ?, deactivated_at = ?, deactivation_reason = ?, updated_at = ? WHERE id = ?",
            .text(transition.state.rawValue), .time(transition.deactivatedAt),
            .optional(transition.deactivationReason?.rawValue), .time(transition.change.at), .text(id))
    }

    /// A payment method on file makes a Plus organization paid (P2).
    func setPaymentMethod(_ work: UnitOfWork, id: String, token: String, at moment: SimTime) throws {
        try work.tx.execute(
            "UPDATE organizations SET payment_method = ?, updated_at = ? WHERE id = ?", .text(token), .time(moment),
            .text(id))
    }

    /// Without a payment method a Plus organization is free from now on (P2, D2).
    func removePaymentMethod(_ work: UnitOfWork, id: String, at moment: SimTime) throws {
        try work.tx.execute(
            "UPDATE organizations SET free_since = CASE WHEN payment_method IS NULL THEN free_since ELSE ? END, payment_method = NULL, updated_at = ? WHERE id = ?",
            .time(moment), .time(moment), .text(id))
    }

    /// A login keeps a free organization active (D2).
    func recordLogin(_ work: UnitOfWork, id: String, at moment: SimTime) throws {
        try work.tx.execute("UPDATE organizations SET last_login_at = ? WHERE id = ?", .time(moment), .text(id))
    }

    /// Proxied API calls keep a free organization active (D2).
    /// The latest moment is kept: calls reported late never move it back.
    func recordAPICall(_ work: UnitOfWork, id: String, at moment: SimTime) throws {
        try work.tx.execute(
            "UPDATE organizations SET last_api_call_at = MAX(COALESCE(last_api_call_at, ?), ?) WHERE id = ?",
            .time(moment), .time(moment), .text(id))
    }

    /// New usage earns no trial credits from now on (P1).
    func closeTrial(_ work: UnitOfWork, id: String) throws {
        try work.tx.execute("UPDATE organizations SET trial_closed = 1 WHERE id = ?", .text(id))
    }

    /// Billing resumes in `cycle` from `moment`, which also counts as activity (D2, D7).
    func resumeBilling(_ work: UnitOfWork, id: String, cycle: Int64, at moment: SimTime) throws {
        try work.tx.execute(
            "UPDATE organizations SET next_cycle = ?, billing_from = ?, reactivated_at = ? WHERE id = ?", .int(cycle),
            .time(moment), .time(moment), .text(id))
    }

    /// The open cycle was invoiced: credits used, and the next cycle opens unless billing stopped for good (D3).
    func cycleClosed(_ work: UnitOfWork, id: String, creditsApplied: Money, opensNext: Bool) throws {
        try work.tx.execute(
            "UPDATE organizations SET credits_used = credits_used + ?, next_cycle = next_cycle + ?, billing_from = NULL WHERE id = ?",
            .int(creditsApplied.cents), .int(opensNext ? 1 : 0), .text(id))
    }

    /// What is left of the trial credits has expired (P1).
    func expireCredits(_ work: UnitOfWork, id: String) throws {
        try work.tx.execute(
            "UPDATE organizations SET credits_expired = MAX(0, credits_granted - credits_used) WHERE id = ? AND credits_expired = 0",
            .text(id))
    }
}
