import Testing

@testable import KonnectCore

private let t0 = SimTime(year: 2026, month: 1, day: 1)

/// The directives every deactivation must return (D3), in the order the shell carries them out.
private func deactivationDirectives(at moment: SimTime) -> [LifecycleDirective] {
    [
        .closeBillingCycle(at: moment), .removeSubscriptions, .endLicenses, .decommissionControlPlanes,
        .removeTeamMembershipsAndRoles, .lockEmail, .revokeSessions,
    ]
}

private func makeLifecycle(in state: OrganizationState) throws -> OrganizationLifecycle {
    var lifecycle = OrganizationLifecycle.created(at: t0, by: "owner")
    if state == .active { return lifecycle }
    _ = try lifecycle.deactivate(reason: .adminDeactivated, actor: "admin", at: t0 + .days(1))
    if state == .inactive { return lifecycle }
    _ = try lifecycle.retentionElapsed(at: t0 + .days(91))
    if state == .deleting { return lifecycle }
    _ = try lifecycle.purgeConfirmed(at: t0 + .days(92))
    return lifecycle
}

/// Rules A5, D1, D3, D7: the organization state machine.
@Suite struct OrganizationLifecycleTests {
    @Test func createdOrganizationIsActiveWithOneHistoryEntry() {
        let lifecycle = OrganizationLifecycle.created(at: t0, by: "user:1")
        #expect(lifecycle.state == .active)
        #expect(lifecycle.retentionDays == 90)
        #expect(lifecycle.deactivatedAt == nil)
        #expect(lifecycle.deactivationReason == nil)
        #expect(lifecycle.deletionDueAt == nil)
        #expect(lifecycle.history == [StateChange(state: .active, reason: "created", actor: "user:1", at: t0)])
    }

    @Test func retentionDefaultsAndRange() {
        #expect(OrganizationLifecycle.defaultRetentionDays == 90)
        #expect(OrganizationLifecycle.retentionRange == 1...365)
        #expect(OrganizationLifecycle.created(at: t0, by: "x", retentionDays: 7).retentionDays == 7)
    }

    @Test(arguments: DeactivationReason.allCases)
    func everyWayOfDeactivatingReturnsEveryEffectOfD3(reason: DeactivationReason) throws {
        var lifecycle = OrganizationLifecycle.created(at: t0, by: "owner")
        let moment = t0 + .days(12) + .hours(5)
        let directives = try lifecycle.deactivate(reason: reason, actor: "actor", at: moment).directives
        #expect(directives == deactivationDirectives(at: moment))
        #expect(lifecycle.state == .inactive)
        #expect(lifecycle.deactivatedAt == moment)
        #expect(lifecycle.deactivationReason == reason)
        #expect(
            lifecycle.history.last == StateChange(state: .inactive, reason: reason.rawValue, actor: "actor", at: moment)
        )
        #expect(lifecycle.history.count == 2)
    }

    @Test func reasonsUseKonnectStyleNames() {
        #expect(
            DeactivationReason.allCases.map(\.rawValue) == [
                "owner_deleted_account", "admin_deactivated", "support_request", "inactivity",
            ])
    }

    @Test func billingStopsAtTheMomentOfDeactivation() throws {
        // D3: the open cycle is closed at once, and that is the first thing done.
        var lifecycle = OrganizationLifecycle.created(at: t0, by: "owner")
        let moment = SimTime(year: 2026, month: 1, day: 17, hour: 13, minute: 7)
        let directives = try lifecycle.deactivate(reason: .support, actor: "support", at: moment).directives
        #expect(directives.first == .closeBillingCycle(at: moment))
    }

    @Test func deletionIsDueAfterTheRetentionPeriod() throws {
        var lifecycle = OrganizationLifecycle.created(at: t0, by: "owner", retentionDays: 30)
        _ = try lifecycle.deactivate(reason: .inactivity, actor: "system", at: t0 + .days(40))
        #expect(lifecycle.deletionDueAt == t0 + .days(70))
        lifecycle.retentionDays = 365
        #expect(lifecycle.deletionDueAt == t0 + .days(405))
    }

    @Test func reactivationRestoresAndClearsDeactivation() throws {
        var lifecycle = try makeLifecycle(in: .inactive)
        let moment = t0 + .days(20)
        let directives = try lifecycle.reactivate(actor: "support", at: moment).directives
        // D7: subscriptions and licenses restored, billing resumes, control planes recommissioned,
        // and the owner alone gets Organization Admin back.
        #expect(
            directives == [
                .restoreSubscriptions, .restoreLicenses, .resumeBilling(at: moment), .recommissionControlPlanes,
                .restoreOwnerAdmin,
            ])
        #expect(lifecycle.state == .active)
        #expect(lifecycle.deactivatedAt == nil)
        #expect(lifecycle.deactivationReason == nil)
        #expect(lifecycle.deletionDueAt == nil)
        #expect(
            lifecycle.history.last == StateChange(state: .active, reason: "reactivated", actor: "support", at: moment))
    }

    @Test func reactivatedOrganizationCanBeDeactivatedAgain() throws {
        var lifecycle = try makeLifecycle(in: .inactive)
        _ = try lifecycle.reactivate(actor: "support", at: t0 + .days(2))
        let directives = try lifecycle.deactivate(reason: .ownerDeletedAccount, actor: "owner", at: t0 + .days(3))
            .directives
        #expect(directives == deactivationDirectives(at: t0 + .days(3)))
        #expect(lifecycle.history.map(\.state) == [.active, .inactive, .active, .inactive])
    }

    @Test func retentionElapsedStartsDeletionAndPurge() throws {
        var lifecycle = try makeLifecycle(in: .inactive)
        let directives = try lifecycle.retentionElapsed(at: t0 + .days(91)).directives
        #expect(directives == [.purgeObjects])
        #expect(lifecycle.state == .deleting)
        #expect(lifecycle.deletionDueAt == nil)
        #expect(
            lifecycle.history.last
                == StateChange(
                    state: .deleting, reason: "retention_period_elapsed", actor: "system", at: t0 + .days(91)))
    }

    @Test func purgeConfirmationEndsInDeleted() throws {
        var lifecycle = try makeLifecycle(in: .deleting)
        _ = try lifecycle.purgeConfirmed(at: t0 + .days(92))
        #expect(lifecycle.state == .deleted)
        #expect(
            lifecycle.history.last
                == StateChange(
                    state: .deleted, reason: "objects_purged_in_every_geo", actor: "system", at: t0 + .days(92)))
        #expect(lifecycle.history.map(\.state) == [.active, .inactive, .deleting, .deleted])
    }

    // MARK: The transition is what the shell persists (A5: one source of truth)

    @Test func deactivationTransitionCarriesStateHistoryAndRetention() throws {
        var lifecycle = OrganizationLifecycle.created(at: t0, by: "owner", retentionDays: 30)
        let moment = t0 + .days(5)
        let transition = try lifecycle.deactivate(reason: .adminDeactivated, actor: "user:1", at: moment)
        #expect(
            transition
                == LifecycleTransition(
                    state: .inactive, deactivatedAt: moment, deactivationReason: .adminDeactivated,
                    deletionDueAt: t0 + .days(35),
                    change: StateChange(state: .inactive, reason: "admin_deactivated", actor: "user:1", at: moment),
                    directives: deactivationDirectives(at: moment)))
        // The value and the transition agree: the shell can persist either.
        #expect(transition.change == lifecycle.history.last)
        #expect(transition.deletionDueAt == lifecycle.deletionDueAt)
    }

    @Test func reactivationTransitionClearsDeactivationAndRetention() throws {
        var lifecycle = try makeLifecycle(in: .inactive)
        let transition = try lifecycle.reactivate(actor: "support", at: t0 + .days(4))
        #expect(transition.state == .active)
        #expect(transition.deactivatedAt == nil)
        #expect(transition.deactivationReason == nil)
        #expect(transition.deletionDueAt == nil)
        #expect(
            transition.change == StateChange(state: .active, reason: "reactivated", actor: "support", at: t0 + .days(4))
        )
    }

    @Test func retentionAndPurgeTransitionsKeepTheDeactivationOnRecord() throws {
        var lifecycle = try makeLifecycle(in: .inactive)
        let deleting = try lifecycle.retentionElapsed(at: t0 + .days(91))
        #expect(deleting.state == .deleting)
        #expect(deleting.deactivatedAt == t0 + .days(1))
        #expect(deleting.deactivationReason == .adminDeactivated)
        #expect(deleting.deletionDueAt == nil)
        let deleted = try lifecycle.purgeConfirmed(at: t0 + .days(92))
        #expect(
            deleted
                == LifecycleTransition(
                    state: .deleted, deactivatedAt: t0 + .days(1), deactivationReason: .adminDeactivated,
                    deletionDueAt: nil,
                    change: StateChange(
                        state: .deleted, reason: "objects_purged_in_every_geo", actor: "system", at: t0 + .days(92)),
                    directives: []))
    }

    // MARK: Forbidden transitions leave the lifecycle untouched

    @Test(arguments: [OrganizationState.inactive, .deleting, .deleted])
    func deactivateIsAllowedOnlyWhenActive(state: OrganizationState) throws {
        var lifecycle = try makeLifecycle(in: state)
        let before = lifecycle
        let error = #expect(throws: LifecycleError.self) {
            try lifecycle.deactivate(reason: .adminDeactivated, actor: "admin", at: t0 + .days(100))
        }
        #expect(error == LifecycleError(state: state, attempted: "deactivated"))
        #expect(lifecycle == before)
    }

    @Test(arguments: [OrganizationState.active, .deleting, .deleted])
    func reactivateIsAllowedOnlyWhenInactive(state: OrganizationState) throws {
        var lifecycle = try makeLifecycle(in: state)
        let before = lifecycle
        let error = #expect(throws: LifecycleError.self) {
            try lifecycle.reactivate(actor: "support", at: t0 + .days(100))
        }
        #expect(error == LifecycleError(state: state, attempted: "reactivated"))
        #expect(lifecycle == before)
    }

    @Test(arguments: [OrganizationState.active, .deleting, .deleted])
    func retentionCanElapseOnlyWhenInactive(state: OrganizationState) throws {
        var lifecycle = try makeLifecycle(in: state)
        let before = lifecycle
        let error = #expect(throws: LifecycleError.self) { try lifecycle.retentionElapsed(at: t0 + .days(100)) }
        #expect(error == LifecycleError(state: state, attempted: "deleted"))
        #expect(lifecycle == before)
    }

    @Test(arguments: [OrganizationState.active, .inactive, .deleted])
    func purgeCanBeConfirmedOnlyWhenDeleting(state: OrganizationState) throws {
        var lifecycle = try makeLifecycle(in: state)
        let before = lifecycle
        let error = #expect(throws: LifecycleError.self) { try lifecycle.purgeConfirmed(at: t0 + .days(100)) }
        #expect(error == LifecycleError(state: state, attempted: "marked deleted"))
        #expect(lifecycle == before)
    }

    @Test(arguments: [
        (OrganizationState.active, "The organization is active; it cannot be reactivated"),
        (.inactive, "The organization is already deactivated; it cannot be reactivated"),
        (.deleting, "The organization is deleting after its retention period; it cannot be reactivated"),
        (.deleted, "The organization is deleted after its retention period; it cannot be reactivated"),
    ])
    func errorDescriptions(state: OrganizationState, text: String) {
        #expect(LifecycleError(state: state, attempted: "reactivated").description == text)
    }

    @Test func stateChangeJSON() {
        let change = StateChange(state: .inactive, reason: "inactivity", actor: "system", at: t0)
        #expect(
            change.json == [
                "state": "inactive", "reason": "inactivity", "actor": "system", "at": "2026-01-01T00:00:00Z",
            ])
    }

    @Test func stateNamesMatchKonnect() {
        #expect(OrganizationState.allCases.map(\.rawValue) == ["active", "inactive", "deleting", "deleted"])
    }
}

/// Rule P3: licenses and plans.
@Suite struct PlanTests {
    @Test func threeLicensesAreProvisioned() {
        #expect(
            LicenseProduct.allCases.map(\.displayName) == [
                "Kong Gateway Enterprise", "Kong Ingress Controller", "Kong Mesh",
            ])
    }

    @Test func enterpriseIncludesSupportAndProfessionalServices() {
        #expect(PlanTerms.support(.enterprise) == "24x7x365")
        #expect(PlanTerms.professionalServices(.enterprise))
        #expect(!PlanTerms.professionalServices(.plus))
        #expect(PlanKind.plus.displayName == "Konnect Plus")
        #expect(PlanKind.enterprise.displayName == "Konnect Enterprise")
    }
}
