import KonnectCore
import KonnectStorage

/// One subscription of an organization's plan.
struct SubscriptionRecord: Sendable {
    var name: String
    /// `active` or `removed` (D3).
    var state: String
    var startedAt: SimTime
    var endedAt: SimTime?

    init(_ row: Row) {
        name = row.string("name") ?? ""
        state = row.string("state") ?? ""
        startedAt = row.time("started_at") ?? SimTime(seconds: 0)
        endedAt = row.time("ended_at")
    }
}

/// Subscriptions (`subscriptions`): provisioned with the plan, removed and restored with the organization.
struct SubscriptionStore {
    let ids: IdentifierSource

    func provision(_ work: UnitOfWork, organizationID: String, names: [String], at moment: SimTime) throws {
        for name in names {
            try work.tx.execute(
                "INSERT INTO subscriptions(id, org_id, name, state, started_at) VALUES (?, ?, ?, 'active', ?)",
                .text(try ids.next(work.tx)), .text(organizationID), .text(name), .time(moment))
        }
    }

    /// The organization's subscriptions by name.
    func subscriptions(_ db: Transaction, organizationID: String) throws -> [SubscriptionRecord] {
        try db.query("SELECT * FROM subscriptions WHERE org_id = ? ORDER BY name", .text(organizationID)).map(
            SubscriptionRecord.init)
    }

    /// Every active subscription is removed (D3).
    func remove(_ work: UnitOfWork, organizationID: String, at moment: SimTime) throws {
        try work.tx.execute(
            "UPDATE subscriptions SET state = 'removed', ended_at = ? WHERE org_id = ? AND state = 'active'",
            .time(moment), .text(organizationID))
    }

    /// Every subscription is active again (D7).
    func restore(_ work: UnitOfWork, organizationID: String) throws {
        try work.tx.execute(
            "UPDATE subscriptions SET state = 'active', ended_at = NULL WHERE org_id = ?", .text(organizationID))
    }
}
