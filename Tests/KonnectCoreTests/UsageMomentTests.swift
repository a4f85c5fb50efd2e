import KonnectCore
import Testing

/// The moment API calls count at (B3, issue 14): when they happened, unless their cycle was invoiced
/// meanwhile (late: when they arrive).
@Suite struct UsageMomentTests {
    let day0 = SimTime(year: 2026, month: 1, day: 1)
    var day5: SimTime { day0 + .days(5) }
    var day30: SimTime { day0 + .days(30) }
    var day31: SimTime { day0 + .days(31) }

    @Test func callsCountWhenTheyHappened() {
        #expect(UsageMoment.attributed(reported: day5, arrived: day30 - .hours(1), openSince: day0) == day5)
    }

    @Test func lateCallsCountWhenTheyArrive() {
        // Cycle 0 was invoiced at day 30; calls of day 5 arrive on day 31.
        #expect(UsageMoment.attributed(reported: day5, arrived: day31, openSince: day30) == day31)
        // Before a reactivation inside the open cycle: late as well.
        #expect(UsageMoment.attributed(reported: day5, arrived: day31, openSince: day0 + .days(10)) == day31)
    }

    @Test func unknownFutureOrUnbilledMomentsAreTheArrival() {
        #expect(UsageMoment.attributed(reported: nil, arrived: day5, openSince: day0) == day5)
        #expect(UsageMoment.attributed(reported: day31, arrived: day5, openSince: day0) == day5)
        #expect(UsageMoment.attributed(reported: day5, arrived: day31, openSince: nil) == day31)
    }
}
