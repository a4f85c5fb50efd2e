import Testing

@testable import KonnectCore

private let c = SimTime(year: 2026, month: 1, day: 1)

private func at(_ days: Int64, hours: Int64 = 0, seconds: Int64 = 0) -> SimTime {
    c + .days(days) + .hours(hours) + SimDuration(seconds: seconds)
}

/// Rule D2 (with P2: only free organizations): inactive when nobody logged in within the last 30 days
/// and there were no API calls in the current or the previous billing cycle.
@Suite struct InactivityRuleTests {
    @Test func windowIsThirtyDays() {
        #expect(InactivityRule.window == .days(30))
    }

    @Test(
        arguments: [
            // last login, last API call, first inactive moment (days are counted from creation;
            // cycle k runs from day 30k to day 30k+30)
            (nil, nil, at(30)),  // nothing ever: 30 days after creation
            (at(10), nil, at(40)),  // login in cycle 0
            (at(45, hours: 6), nil, at(75, hours: 6)),  // login in cycle 1
            (at(-5), nil, at(30)),  // a login before creation counts as the creation
            (nil, at(5), at(60)),  // call in cycle 0 keeps cycle 1 active: due when cycle 2 starts
            (nil, at(29, hours: 23), at(60)),  // last hour of cycle 0
            (nil, at(30), at(90)),  // first moment of cycle 1: due when cycle 3 starts
            (nil, at(-3), at(60)),  // a call before creation counts in cycle 0
            (at(80), at(5), at(110)),  // the later condition wins: the login
            (at(59), at(59), at(90)),  // the later condition wins: the call (cycle 1)
            (at(61), at(59), at(91)),  // the later condition wins: the login
            (at(100), at(95), at(150)),  // call in cycle 3 keeps cycle 4 active: cycle 5 starts on day 150
        ] as [(SimTime?, SimTime?, SimTime)])
    func freeOrganizationDueAt(lastLogin: SimTime?, lastCall: SimTime?, due: SimTime) {
        #expect(
            InactivityRule.dueAt(
                isFree: true, state: .active, createdAt: c, lastLoginAt: lastLogin, lastAPICallAt: lastCall) == due)
    }

    @Test func cyclesFollowCreationTimeOfDay() {
        let created = SimTime(year: 2026, month: 1, day: 1, hour: 18)
        // A call at 17:00 on day 30 is still in cycle 0, which ends at 18:00.
        let due = InactivityRule.dueAt(
            isFree: true, state: .active, createdAt: created, lastLoginAt: nil,
            lastAPICallAt: created + .days(30) - .hours(1))
        #expect(due == created + .days(60))
    }

    @Test(arguments: [
        (false, OrganizationState.active),  // paid Plus or Enterprise: P2
        (true, .inactive),
        (true, .deleting),
        (true, .deleted),
        (false, .inactive),
    ])
    func ruleDoesNotApply(isFree: Bool, state: OrganizationState) {
        #expect(
            InactivityRule.dueAt(isFree: isFree, state: state, createdAt: c, lastLoginAt: nil, lastAPICallAt: nil)
                == nil)
    }

    @Test func freeMeansPlusWithoutPaymentMethod() {
        func schedule(_ plan: PlanKind, payment: Bool) -> OrganizationSchedule {
            OrganizationSchedule(
                organizationID: "o", createdAt: c, state: .active, plan: plan, hasPaymentMethod: payment,
                nextCycleIndex: 0,
                trialEndsAt: nil, trialClosed: true, lastLoginAt: nil, lastAPICallAt: nil, deletionDueAt: nil)
        }
        #expect(schedule(.plus, payment: false).isFree)
        #expect(!schedule(.plus, payment: true).isFree)
        #expect(!schedule(.enterprise, payment: false).isFree)
        #expect(!schedule(.enterprise, payment: true).isFree)
    }

    // MARK: isInactive

    @Test func loginWithinThirtyDaysKeepsActive() {
        #expect(!InactivityRule.isInactive(at: at(39, hours: 23), createdAt: c, lastLoginAt: at(10), apiCallTimes: []))
        #expect(InactivityRule.isInactive(at: at(40), createdAt: c, lastLoginAt: at(10), apiCallTimes: []))
    }

    @Test func noActivityAtAllIsInactiveAfterThirtyDays() {
        #expect(!InactivityRule.isInactive(at: at(30, seconds: -1), createdAt: c, lastLoginAt: nil, apiCallTimes: []))
        #expect(InactivityRule.isInactive(at: at(30), createdAt: c, lastLoginAt: nil, apiCallTimes: []))
    }

    @Test func callInCurrentOrPreviousCycleKeepsActive() {
        let calls = [at(35)]  // cycle 1
        // A call in the current cycle, then in the previous one, then two cycles ago.
        #expect(!InactivityRule.isInactive(at: at(45), createdAt: c, lastLoginAt: nil, apiCallTimes: calls))
        #expect(!InactivityRule.isInactive(at: at(89), createdAt: c, lastLoginAt: nil, apiCallTimes: calls))
        #expect(InactivityRule.isInactive(at: at(90), createdAt: c, lastLoginAt: nil, apiCallTimes: calls))
    }

    @Test func callsAfterTheMomentAreIgnored() {
        #expect(InactivityRule.isInactive(at: at(30), createdAt: c, lastLoginAt: nil, apiCallTimes: [at(31)]))
    }

    @Test func bothConditionsAreNeeded() {
        // Old login but a recent call: active. Recent login but no calls: active.
        #expect(!InactivityRule.isInactive(at: at(70), createdAt: c, lastLoginAt: nil, apiCallTimes: [at(61)]))
        #expect(!InactivityRule.isInactive(at: at(70), createdAt: c, lastLoginAt: at(50), apiCallTimes: []))
    }

    @Test func isInactiveAgreesWithDueAtForSeededScenarios() {
        // For 300 random histories, at every sampled moment after the last activity, the rule evaluated
        // directly says inactive exactly from dueAt on.
        var random = SeededRandom(seed: 0xD2)
        var disagreements: [String] = []
        for scenario in 0..<300 {
            let created = c + SimDuration(seconds: Int64.random(in: 0..<SimTime.secondsPerDay * 400, using: &random))
            let login: SimTime? =
                Bool.random(using: &random)
                ? nil : created + SimDuration(seconds: Int64.random(in: -86_400...(150 * 86_400), using: &random))
            let callCount = Int.random(in: 0...4, using: &random)
            let calls = (0..<callCount).map { _ in
                created + SimDuration(seconds: Int64.random(in: -86_400...(150 * 86_400), using: &random))
            }
            let due = InactivityRule.dueAt(
                isFree: true, state: .active, createdAt: created, lastLoginAt: login, lastAPICallAt: calls.max())!
            let lastActivity = ([created] + calls + (login.map { [$0] } ?? [])).max()!
            var moments = [due - SimDuration(seconds: 1), due, due + SimDuration(seconds: 1)]
            var moment = lastActivity
            while moment < due + .days(70) {
                moments.append(moment)
                moment = moment + .hours(7)
            }
            for moment in moments where moment >= lastActivity {
                let inactive = InactivityRule.isInactive(
                    at: moment, createdAt: created, lastLoginAt: login, apiCallTimes: calls)
                if inactive != (moment >= due) {
                    disagreements.append("scenario \(scenario) at \(moment): \(inactive), due \(due)")
                }
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
    }
}
