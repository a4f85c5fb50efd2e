import Testing

@testable import KonnectCore

private let c = SimTime(year: 2026, month: 1, day: 1)

private func schedule(
    id: String = "org", state: OrganizationState = .active, plan: PlanKind = .plus, payment: Bool = false,
    nextCycle: Int64 = 0,
    trialEndsAt: SimTime? = c + .days(30), trialClosed: Bool = false, lastLogin: SimTime? = nil,
    lastCall: SimTime? = nil,
    deletionDueAt: SimTime? = nil
) -> OrganizationSchedule {
    OrganizationSchedule(
        organizationID: id, createdAt: c, state: state, plan: plan, hasPaymentMethod: payment,
        nextCycleIndex: nextCycle,
        trialEndsAt: trialEndsAt, trialClosed: trialClosed, lastLoginAt: lastLogin, lastAPICallAt: lastCall,
        deletionDueAt: deletionDueAt)
}

private func event(_ at: SimTime, _ kind: DueEventKind, _ org: String = "org") -> DueEvent {
    DueEvent(at: at, kind: kind, organizationID: org)
}

/// Rule B1: everything that falls due happens in date order, with a fixed order at equal instants.
@Suite struct DueEventOrderTests {
    @Test func kindsRunCycleEndThenTrialEndThenInactivityThenRetention() {
        #expect(DueEventKind.allCases.sorted() == [.cycleEnd, .trialEnd, .inactivity, .retentionEnd])
        #expect(DueEventKind.allCases.map(\.name) == ["cycle_end", "trial_end", "inactivity", "retention_end"])
    }

    @Test func eventsOrderByDateThenKindThenOrganization() {
        #expect(event(c, .retentionEnd) < event(c + SimDuration(seconds: 1), .cycleEnd))
        #expect(event(c, .cycleEnd, "z") < event(c, .trialEnd, "a"))
        #expect(event(c, .inactivity, "a") < event(c, .inactivity, "b"))
        #expect(!(event(c, .inactivity, "a") < event(c, .inactivity, "a")))
    }

    @Test func orderIsTotal() {
        let events = [c, c + .days(1)].flatMap { at in
            DueEventKind.allCases.flatMap { kind in ["a", "b"].map { event(at, kind, $0) } }
        }
        for first in events {
            for second in events {
                let ordered = [first < second, second < first, first == second].filter { $0 }.count
                #expect(ordered == 1)
            }
        }
    }
}

/// Rules B1, B2, P1, D2, A5: what falls due next for one organization.
@Suite struct OrganizationScheduleTests {
    @Test func newFreeTrialOrganizationClosesItsCycleFirstAtDay30() {
        // Cycle end, trial end and inactivity all fall on day 30: the cycle closes first.
        let next = schedule().nextEvent
        #expect(next == event(c + .days(30), .cycleEnd))
    }

    @Test func afterTheCycleTheTrialEndsBeforeInactivityIsJudged() {
        #expect(schedule(nextCycle: 1).nextEvent == event(c + .days(30), .trialEnd))
    }

    @Test func afterTheTrialInactivityIsNext() {
        #expect(schedule(nextCycle: 1, trialClosed: true).nextEvent == event(c + .days(30), .inactivity))
    }

    @Test func loginPostponesInactivityBehindTheCycleEnd() {
        let next = schedule(nextCycle: 1, trialClosed: true, lastLogin: c + .days(40)).nextEvent
        #expect(next == event(c + .days(60), .cycleEnd))
    }

    @Test func earlierTrialEndComesFirst() {
        let next = schedule(trialEndsAt: c + .days(10)).nextEvent
        #expect(next == event(c + .days(10), .trialEnd))
    }

    @Test(arguments: [(PlanKind.plus, true), (.enterprise, false), (.enterprise, true)])
    func paidAndEnterpriseOrganizationsHaveNoInactivityEvent(plan: PlanKind, payment: Bool) {
        // P2: only free organizations are deactivated for inactivity.
        let next = schedule(plan: plan, payment: payment, nextCycle: 1, trialEndsAt: nil).nextEvent
        #expect(next == event(c + .days(60), .cycleEnd))
    }

    @Test func closedTrialIsNotScheduledAgain() {
        let next = schedule(payment: true, nextCycle: 0, trialEndsAt: c + .days(5), trialClosed: true).nextEvent
        #expect(next == event(c + .days(30), .cycleEnd))
    }

    @Test func inactiveOrganizationWaitsForRetentionEnd() {
        let next = schedule(state: .inactive, trialClosed: true, deletionDueAt: c + .days(100)).nextEvent
        #expect(next == event(c + .days(100), .retentionEnd))
    }

    @Test func inactiveOrganizationHasNoCycleOrInactivityEvents() {
        #expect(schedule(state: .inactive, trialClosed: true, deletionDueAt: nil).nextEvent == nil)
    }

    @Test func inactiveOrganizationStillEndsItsTrialFirstAtTheSameInstant() {
        // Credits expire with the trial (P1) even while deactivated; at an equal instant before retention.
        let next = schedule(state: .inactive, trialEndsAt: c + .days(30), deletionDueAt: c + .days(30)).nextEvent
        #expect(next == event(c + .days(30), .trialEnd))
    }

    @Test(arguments: [OrganizationState.deleting, .deleted])
    func deletingAndDeletedOrganizationsHaveNothingDue(state: OrganizationState) {
        #expect(schedule(state: state, deletionDueAt: c + .days(1)).nextEvent == nil)
    }

    @Test func cycleEndFollowsTheNextCycleIndex() {
        #expect(schedule(payment: true, nextCycle: 7, trialClosed: true).nextEvent == event(c + .days(240), .cycleEnd))
    }

    @Test func eventsCarryTheOrganizationID() {
        #expect(schedule(id: "org-42").nextEvent?.organizationID == "org-42")
    }
}

@Suite struct DueEventQueueTests {
    @Test func emptyQueue() {
        var queue = DueEventQueue()
        #expect(queue.isEmpty)
        #expect(queue.count == 0)
        #expect(queue.first == nil)
        #expect(queue.pop() == nil)
    }

    @Test func firstIsTheSmallestWithoutRemovingIt() {
        var queue = DueEventQueue()
        queue.push(event(c + .days(2), .cycleEnd))
        queue.push(event(c + .days(1), .inactivity))
        queue.push(event(c + .days(1), .trialEnd))
        #expect(queue.first == event(c + .days(1), .trialEnd))
        #expect(queue.count == 3)
        #expect(queue.pop() == event(c + .days(1), .trialEnd))
        #expect(queue.count == 2)
    }

    @Test(arguments: [1, 2, 3, 42, 2026])
    func popsRandomPushesInTotalOrder(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var queue = DueEventQueue()
        var pushed: [DueEvent] = []
        for _ in 0..<500 {
            // Few distinct instants, kinds and organizations, so ties at every level are common.
            let item = event(
                c + .days(Int64.random(in: 0..<10, using: &random)),
                DueEventKind.allCases.randomElement(using: &random)!,
                "org-\(Int.random(in: 0..<4, using: &random))")
            queue.push(item)
            pushed.append(item)
        }
        var popped: [DueEvent] = []
        while let next = queue.pop() { popped.append(next) }
        #expect(popped == pushed.sorted())
        #expect(queue.isEmpty)
    }

    @Test(arguments: [7, 99])
    func interleavedPushesAndPopsMatchASortedList(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var queue = DueEventQueue()
        var reference: [DueEvent] = []
        var mismatches = 0
        for _ in 0..<2_000 {
            if reference.isEmpty || Int.random(in: 0..<3, using: &random) > 0 {
                let item = event(
                    c + SimDuration(seconds: Int64.random(in: 0..<1_000, using: &random)),
                    DueEventKind.allCases.randomElement(using: &random)!,
                    "org-\(Int.random(in: 0..<3, using: &random))")
                queue.push(item)
                reference.insert(item, at: reference.firstIndex { item < $0 } ?? reference.endIndex)
            } else {
                if queue.pop() != reference.removeFirst() { mismatches += 1 }
            }
            if queue.count != reference.count || queue.first != reference.first { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }
}
