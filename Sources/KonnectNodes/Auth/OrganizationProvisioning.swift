import KonnectCore

/// Creates an organization with everything it starts with (A1, A2, P1, P3): the record in the state
/// `OrganizationLifecycle.created` returns, the owner's membership and Organization Admin role, three
/// licenses, the plan's subscriptions, the trial and its credits, and the creation in the history.
struct OrganizationProvisioning: Sendable {
    let organizations: OrganizationStore
    let memberships: MembershipStore
    let roles: RoleAssignmentStore
    let licenses: LicenseStore
    let subscriptions: SubscriptionStore
    let history: StateHistoryStore
    let rateCard: RateCard

    /// Returns the new organization's id.
    func create(
        _ work: UnitOfWork, name: String, plan: PlanKind, geo: String, ownerID: String, actor: String,
        at moment: SimTime
    ) throws -> String {
        let lifecycle = OrganizationLifecycle.created(at: moment, by: actor)
        let trial = plan == .plus
        let id = try organizations.create(
            work, name: name, plan: plan, geo: geo, ownerID: ownerID, lifecycle: lifecycle,
            trialEndsAt: trial ? moment + .days(rateCard.trialDays) : nil,
            credits: trial ? rateCard.trialCredits : .zero,
            at: moment)
        try memberships.add(work, organizationID: id, userID: ownerID, at: moment)
        try roles.assign(work, RoleCatalog.organizationAdmin, to: .user(ownerID), organizationID: id, at: moment)
        try licenses.provision(work, organizationID: id, at: moment)
        try subscriptions.provision(work, organizationID: id, names: PlanTerms.subscriptions(plan), at: moment)
        for change in lifecycle.history { try history.append(work, organizationID: id, change) }
        return id
    }
}
