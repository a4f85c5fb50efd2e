import KonnectCore

/// Carries out `OrganizationLifecycle`'s transitions (A5, D1-D4, D7) inside a unit of work: the core
/// decides; this persists exactly the state and history entry the transition returned, then carries
/// out its directives in order. The outbox events it appends reach geos after the commit.
struct OrganizationTransitions: Sendable {
    let organizations: OrganizationStore
    let users: UserStore
    let memberships: MembershipStore
    let sessions: SessionStore
    let accessTokens: AccessTokenStore
    let teams: TeamStore
    let roles: RoleAssignmentStore
    let licenses: LicenseStore
    let subscriptions: SubscriptionStore
    let emailLocks: EmailLockStore
    let history: StateHistoryStore
    let outbox: OutboxStore
    let geoCursors: GeoCursorStore
    let billing: BillingLedger
    /// Every geo of the cluster: all of them must confirm a purge.
    let geos: [String]

    /// Deactivation by any of the ways in (D1, D2); 404 for an unknown organization, 409 unless active.
    @discardableResult
    func deactivate(
        _ work: UnitOfWork, organizationID: String, reason: DeactivationReason, actor: String, at moment: SimTime
    ) throws -> LifecycleTransition {
        let record = try organization(work, organizationID)
        var lifecycle = record.lifecycle
        let transition: LifecycleTransition
        do {
            transition = try lifecycle.deactivate(reason: reason, actor: actor, at: moment)
        } catch {
            throw APIError.conflict(error.description)
        }
        try persist(work, transition, of: record)
        return transition
    }

    /// Reactivation by support (D7); 404 for an unknown organization, 409 unless deactivated.
    @discardableResult
    func reactivate(_ work: UnitOfWork, organizationID: String, actor: String, at moment: SimTime) throws
        -> LifecycleTransition
    {
        let record = try organization(work, organizationID)
        var lifecycle = record.lifecycle
        let transition: LifecycleTransition
        do {
            transition = try lifecycle.reactivate(actor: actor, at: moment)
        } catch {
            throw APIError.conflict(error.description)
        }
        try persist(work, transition, of: record)
        return transition
    }

    /// The retention period ended (A5): deleting, and every geo purges. Nil when the organization is
    /// gone or no longer deactivated.
    @discardableResult
    func retentionElapsed(_ work: UnitOfWork, organizationID: String, at moment: SimTime) throws
        -> LifecycleTransition?
    {
        guard let record = try organizations.organization(work.tx, id: organizationID) else { return nil }
        var lifecycle = record.lifecycle
        let transition: LifecycleTransition
        do {
            transition = try lifecycle.retentionElapsed(at: moment)
        } catch {
            return nil  // reactivated since the event was scheduled: nothing falls due
        }
        try persist(work, transition, of: record)
        return transition
    }

    /// Marks `deleted` every organization whose purge every geo has confirmed (its cursor passed the
    /// purge event); returns their ids. A purge issued by the calendar move still running (an event after
    /// `moveStartedAfter`) is stamped with its own due moment: the geos carried it out as the calendar
    /// reached it. Any other is stamped `moment`, when the last geo (one that was down or cut off)
    /// confirmed it.
    func confirmPurges(_ work: UnitOfWork, at moment: SimTime, moveStartedAfter: Int64? = nil) throws -> [String] {
        let cursors = try geoCursors.cursors(work.tx)
        let confirmedThrough = geos.map { cursors[$0] ?? 0 }.min() ?? .max
        var deleted: [String] = []
        for pending in try outbox.pendingPurges(work.tx) where pending.seq <= confirmedThrough {
            let stamp = moveStartedAfter.map { pending.seq > $0 } == true ? min(pending.at, moment) : moment
            guard let record = try organizations.organization(work.tx, id: pending.organizationID) else { continue }
            var lifecycle = record.lifecycle
            let transition: LifecycleTransition
            do {
                transition = try lifecycle.purgeConfirmed(at: stamp)
            } catch {
                continue  // confirmed already
            }
            try persist(work, transition, of: record)
            deleted.append(record.id)
        }
        return deleted
    }

    /// The log line for a committed transition: what happened, and what happens next.
    static func describe(_ transition: LifecycleTransition, of id: String) -> String {
        let change = transition.change
        switch transition.state {
        case .inactive:
            let retention = transition.deletionDueAt.map { "; deleted at \($0.iso8601) unless reactivated" } ?? ""
            return "organization \(id) deactivated (\(change.reason)) by \(change.actor)\(retention)"
        case .active: return "organization \(id) reactivated by \(change.actor)"
        case .deleting: return "organization \(id) is deleting (\(change.reason)): every geo purges its objects"
        case .deleted: return "organization \(id) deleted: every geo purged its objects"
        }
    }

    private func organization(_ work: UnitOfWork, _ id: String) throws -> OrganizationRecord {
        guard let record = try organizations.organization(work.tx, id: id) else {
            throw APIError.notFound("The requested organization was not found")
        }
        return record
    }

    /// The state and history entry the transition returned, then its directives, in order.
    private func persist(_ work: UnitOfWork, _ transition: LifecycleTransition, of record: OrganizationRecord) throws {
        try organizations.apply(work, transition, to: record.id)
        try history.append(work, organizationID: record.id, transition.change)
        for directive in transition.directives {
            try carryOut(directive, work, transition, record)
        }
    }

    private func carryOut(
        _ directive: LifecycleDirective, _ work: UnitOfWork, _ transition: LifecycleTransition,
        _ record: OrganizationRecord
    ) throws {
        let id = record.id
        let moment = transition.change.at
        switch directive {
        case .closeBillingCycle(let at):
            try billing.closeCycle(work, organizationID: id, at: at, final: true)
        case .removeSubscriptions:
            try subscriptions.remove(work, organizationID: id, at: moment)
        case .endLicenses:
            try licenses.end(work, organizationID: id, at: moment)
        case .decommissionControlPlanes:
            guard let reason = transition.deactivationReason else {
                throw APIError(status: 500, detail: "A deactivation of \(id) carried no reason; nothing was changed")
            }
            try outbox.append(work, .deactivated(reason: reason.rawValue), organizationID: id, at: moment)
        case .removeTeamMembershipsAndRoles:
            try teams.removeAllMembers(work, organizationID: id)
            try roles.removeAll(work, organizationID: id)
        case .lockEmail:
            if let owner = try users.user(work.tx, id: record.ownerID) {
                try emailLocks.lock(work, email: owner.email, emailKey: owner.emailKey, organizationID: id, at: moment)
            }
        case .revokeSessions:
            try sessions.revokeAll(work, organizationID: id)
            try accessTokens.revokeAll(work, organizationID: id, at: moment)
        case .restoreSubscriptions:
            try subscriptions.restore(work, organizationID: id)
        case .restoreLicenses:
            try licenses.restore(work, organizationID: id)
        case .resumeBilling(let at):
            // A reactivation counts as activity: the inactivity window starts again from it (D2, D7).
            let cycle = BillingCycle(containing: at, createdAt: record.createdAt)
            try organizations.resumeBilling(work, id: id, cycle: cycle.index, at: at)
        case .recommissionControlPlanes:
            let restored = try licenses.licenses(work.tx, organizationID: id)
            try outbox.append(
                work,
                .reactivated(
                    gatewayLicense: restored.payload(of: .gatewayEnterprise, customer: record.name),
                    meshLicense: restored.payload(of: .mesh, customer: record.name)),
                organizationID: id, at: moment)
        case .restoreOwnerAdmin:
            try users.activate(work, id: record.ownerID)
            try memberships.ensure(work, organizationID: id, userID: record.ownerID, at: moment)
            try roles.assign(
                work, RoleCatalog.organizationAdmin, to: .user(record.ownerID), organizationID: id, at: moment)
        case .purgeObjects:
            try outbox.append(work, .deleted, organizationID: id, at: moment)
        }
    }
}
