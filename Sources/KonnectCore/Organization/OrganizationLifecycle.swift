/// An organization's state (A5): `active` → `inactive` (deactivated) → `deleting` → `deleted`.
public enum OrganizationState: String, Sendable, CaseIterable {
    case active, inactive, deleting, deleted
}

/// Why an organization was deactivated (D1, D2).
public enum DeactivationReason: String, Sendable, CaseIterable {
    /// The owner deleted their account (My Account > Delete Account).
    case ownerDeletedAccount = "owner_deleted_account"
    /// An Organization Admin deactivated it (Organization > Settings > General > Deactivate Organization).
    case adminDeactivated = "admin_deactivated"
    /// Kong Support deactivated it on request.
    case support = "support_request"
    /// A free organization was inactive for 30 days.
    case inactivity = "inactivity"
}

/// One entry of the state history support reads (A5): state, reason, actor, calendar time.
public struct StateChange: Sendable, Hashable {
    public var state: OrganizationState
    public var reason: String
    public var actor: String
    public var at: SimTime

    public init(state: OrganizationState, reason: String, actor: String, at: SimTime) {
        self.state = state
        self.reason = reason
        self.actor = actor
        self.at = at
    }

    public var json: JSON {
        [
            "state": .string(state.rawValue), "reason": .string(reason), "actor": .string(actor),
            "at": .string(at.iso8601),
        ]
    }
}

/// What the auth node must carry out after a lifecycle transition, in this order.
public enum LifecycleDirective: Sendable, Hashable {
    /// Close the open billing cycle at this moment and invoice it (D3: billing stops at once).
    case closeBillingCycle(at: SimTime)
    case removeSubscriptions
    case endLicenses
    /// Tell every geo to decommission the organization's control planes (D3, D4).
    case decommissionControlPlanes
    /// Remove every member from the organization's teams and every role in it (D3).
    case removeTeamMembershipsAndRoles
    /// Lock the owner's email against new signups (D3).
    case lockEmail
    /// Invalidate sessions and tokens for the organization (D3).
    case revokeSessions
    case restoreSubscriptions
    case restoreLicenses
    /// Billing resumes from this moment (the rest of the current cycle).
    case resumeBilling(at: SimTime)
    case recommissionControlPlanes
    /// The owner holds Organization Admin again (D7).
    case restoreOwnerAdmin
    /// Tell every geo to purge the organization's objects (A5).
    case purgeObjects
}

/// A transition the current state does not allow, with what the caller can do about it.
public struct LifecycleError: Error, Sendable, Equatable, CustomStringConvertible {
    public var state: OrganizationState
    public var attempted: String

    public var description: String {
        switch state {
        case .active: "The organization is active; it cannot be \(attempted)"
        case .inactive: "The organization is already deactivated; it cannot be \(attempted)"
        case .deleting, .deleted:
            "The organization is \(state.rawValue) after its retention period; it cannot be \(attempted)"
        }
    }
}

/// What one lifecycle transition changed, for the shell to persist exactly as given: the organization's
/// new state and deactivation, the state history entry, when its retention period ends, and the
/// directives to carry out, in order, in the same transaction.
public struct LifecycleTransition: Sendable, Hashable {
    public var state: OrganizationState
    public var deactivatedAt: SimTime?
    public var deactivationReason: DeactivationReason?
    /// When the retention period of the (now) deactivated organization ends; nil unless inactive.
    public var deletionDueAt: SimTime?
    /// The entry the transition appended to the state history (A5).
    public var change: StateChange
    public var directives: [LifecycleDirective]

    public init(
        state: OrganizationState, deactivatedAt: SimTime?, deactivationReason: DeactivationReason?,
        deletionDueAt: SimTime?, change: StateChange, directives: [LifecycleDirective]
    ) {
        self.state = state
        self.deactivatedAt = deactivatedAt
        self.deactivationReason = deactivationReason
        self.deletionDueAt = deletionDueAt
        self.change = change
        self.directives = directives
    }
}

/// The lifecycle of one organization as a value: every transition records a state history entry and
/// returns a `LifecycleTransition` (what changed, and the directives the shell carries out). No I/O.
public struct OrganizationLifecycle: Sendable, Hashable {
    public static let defaultRetentionDays: Int64 = 90
    public static let retentionRange: ClosedRange<Int64> = 1...365

    public private(set) var state: OrganizationState
    public private(set) var deactivatedAt: SimTime?
    public private(set) var deactivationReason: DeactivationReason?
    public var retentionDays: Int64
    public private(set) var history: [StateChange]

    public init(
        state: OrganizationState = .active, deactivatedAt: SimTime? = nil,
        deactivationReason: DeactivationReason? = nil,
        retentionDays: Int64 = OrganizationLifecycle.defaultRetentionDays, history: [StateChange] = []
    ) {
        self.state = state
        self.deactivatedAt = deactivatedAt
        self.deactivationReason = deactivationReason
        self.retentionDays = retentionDays
        self.history = history
    }

    /// A new organization: active, with its creation recorded.
    public static func created(at moment: SimTime, by actor: String, retentionDays: Int64 = defaultRetentionDays)
        -> OrganizationLifecycle
    {
        OrganizationLifecycle(
            state: .active, retentionDays: retentionDays,
            history: [StateChange(state: .active, reason: "created", actor: actor, at: moment)])
    }

    /// When the retention period of a deactivated organization ends: the one place this date is
    /// computed (the calendar schedules the end of retention from it).
    public var deletionDueAt: SimTime? {
        guard state == .inactive, let deactivatedAt else { return nil }
        return deactivatedAt + .days(retentionDays)
    }

    /// Deactivation by any of the ways in (D1, D2): every effect of D3 as directives.
    public mutating func deactivate(reason: DeactivationReason, actor: String, at moment: SimTime)
        throws(LifecycleError) -> LifecycleTransition
    {
        guard state == .active else { throw LifecycleError(state: state, attempted: "deactivated") }
        state = .inactive
        deactivatedAt = moment
        deactivationReason = reason
        return record(
            StateChange(state: .inactive, reason: reason.rawValue, actor: actor, at: moment),
            [
                .closeBillingCycle(at: moment), .removeSubscriptions, .endLicenses, .decommissionControlPlanes,
                .removeTeamMembershipsAndRoles, .lockEmail, .revokeSessions,
            ])
    }

    /// Reactivation by support (D7).
    public mutating func reactivate(actor: String, at moment: SimTime) throws(LifecycleError) -> LifecycleTransition {
        guard state == .inactive else { throw LifecycleError(state: state, attempted: "reactivated") }
        state = .active
        deactivatedAt = nil
        deactivationReason = nil
        return record(
            StateChange(state: .active, reason: "reactivated", actor: actor, at: moment),
            [
                .restoreSubscriptions, .restoreLicenses, .resumeBilling(at: moment), .recommissionControlPlanes,
                .restoreOwnerAdmin,
            ])
    }

    /// The retention period ended without reactivation: deleting, and every geo purges (A5).
    public mutating func retentionElapsed(at moment: SimTime) throws(LifecycleError) -> LifecycleTransition {
        guard state == .inactive else { throw LifecycleError(state: state, attempted: "deleted") }
        state = .deleting
        return record(
            StateChange(state: .deleting, reason: "retention_period_elapsed", actor: "system", at: moment),
            [.purgeObjects])
    }

    /// Every geo confirmed the purge.
    public mutating func purgeConfirmed(at moment: SimTime) throws(LifecycleError) -> LifecycleTransition {
        guard state == .deleting else { throw LifecycleError(state: state, attempted: "marked deleted") }
        state = .deleted
        return record(
            StateChange(state: .deleted, reason: "objects_purged_in_every_geo", actor: "system", at: moment), [])
    }

    /// Appends the history entry and describes the state the transition reached.
    private mutating func record(_ change: StateChange, _ directives: [LifecycleDirective]) -> LifecycleTransition {
        history.append(change)
        return LifecycleTransition(
            state: state, deactivatedAt: deactivatedAt, deactivationReason: deactivationReason,
            deletionDueAt: deletionDueAt, change: change, directives: directives)
    }
}
