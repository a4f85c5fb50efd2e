import Testing

@testable import KonnectCore

private let created = SimTime(year: 2026, month: 1, day: 1)
private let cycle0 = BillingCycle(index: 0, createdAt: created)

private func day(_ slot: Int64, hour: Int64 = 0, in cycle: BillingCycle = cycle0) -> SimTime {
    cycle.dayStart(slot) + .hours(hour)
}

private func service(_ id: String, from start: SimTime, to end: SimTime? = nil, geo: String = "us") -> UsageSpan {
    UsageSpan(id: id, name: "svc-\(id)", geo: geo, start: start, end: end)
}

private func portal(_ id: String, from start: SimTime, to end: SimTime? = nil, geo: String = "us") -> UsageSpan {
    UsageSpan(id: id, name: "portal-\(id)", geo: geo, start: start, end: end)
}

private func price(
    window: BillingWindow = BillingWindow(cycle: cycle0), rateCard: RateCard = .standard, services: [UsageSpan] = [],
    portals: [UsageSpan] = [], calls: [APICallRecord] = [], trialEnd: SimTime? = nil, credits: Money = .zero,
    contract: Bool = false
) -> Invoice {
    BillingCalculator.invoice(
        window: window, rateCard: rateCard, services: services, portals: portals, calls: calls, trialEnd: trialEnd,
        creditsAvailable: credits, contract: contract)
}

private func dollars(_ text: String) -> Money { Money(decimal: text)! }

/// Rule B2: 30-day cycles from the organization's creation.
@Suite struct BillingCycleTests {
    @Test func cyclesAreThirtyDayIncrementsFromCreation() {
        #expect(BillingCycle.length == .days(30))
        #expect(cycle0.start == created)
        #expect(cycle0.end.iso8601 == "2026-01-31T00:00:00Z")
        let third = BillingCycle(index: 2, createdAt: created)
        #expect(third.start.iso8601 == "2026-03-02T00:00:00Z")
        #expect(third.end.iso8601 == "2026-04-01T00:00:00Z")
    }

    @Test func creationTimeOfDayIsKept() {
        let cycle = BillingCycle(index: 1, createdAt: SimTime(year: 2026, month: 1, day: 1, hour: 15, minute: 30))
        #expect(cycle.start.iso8601 == "2026-01-31T15:30:00Z")
        #expect(cycle.end.iso8601 == "2026-03-02T15:30:00Z")
    }

    @Test(
        arguments: [
            (SimTime(year: 2026, month: 1, day: 1), Int64(0)),
            (SimTime(year: 2026, month: 1, day: 30, hour: 23, minute: 59, second: 59), 0),
            (SimTime(year: 2026, month: 1, day: 31), 1),  // an end belongs to the next cycle
            (SimTime(year: 2026, month: 3, day: 1, hour: 23, minute: 59, second: 59), 1),
            (SimTime(year: 2026, month: 3, day: 2), 2),
            (SimTime(year: 2025, month: 6, day: 1), 0),  // before creation: the first cycle
        ] as [(SimTime, Int64)])
    func containingMomentFindsItsCycle(moment: SimTime, index: Int64) {
        let cycle = BillingCycle(containing: moment, createdAt: created)
        #expect(cycle.index == index)
        #expect(cycle == BillingCycle(index: index, createdAt: created))
        if moment >= created { #expect(cycle.contains(moment)) }
    }

    @Test func containsIsHalfOpen() {
        #expect(cycle0.contains(cycle0.start))
        #expect(cycle0.contains(cycle0.end - SimDuration(seconds: 1)))
        #expect(!cycle0.contains(cycle0.end))
        #expect(!cycle0.contains(cycle0.start - SimDuration(seconds: 1)))
    }

    @Test func dayStartsAreWholeDaysFromTheCycleStart() {
        let cycle = BillingCycle(index: 3, createdAt: created)
        #expect(cycle.dayStart(0) == cycle.start)
        #expect(cycle.dayStart(29) == cycle.end - .days(1))
    }

    @Test func leapDayCyclesCountRealDays() {
        // 2028 is a leap year: 30 days from 2028-02-01 end on 2028-03-02, not 2028-03-03.
        let cycle = BillingCycle(index: 0, createdAt: SimTime(year: 2028, month: 2, day: 1))
        #expect(cycle.end.iso8601 == "2028-03-02T00:00:00Z")
        #expect(cycle.dayStart(28).iso8601 == "2028-02-29T00:00:00Z")
        let fromLeapDay = BillingCycle(index: 1, createdAt: SimTime(year: 2028, month: 2, day: 29))
        #expect(fromLeapDay.start.iso8601 == "2028-03-30T00:00:00Z")
        #expect(fromLeapDay.end.iso8601 == "2028-04-29T00:00:00Z")
        let acrossNonLeap = BillingCycle(index: 0, createdAt: SimTime(year: 2026, month: 2, day: 1))
        #expect(acrossNonLeap.end.iso8601 == "2026-03-03T00:00:00Z")
    }
}

@Suite struct BillingWindowTests {
    @Test func windowIsClampedToItsCycle() {
        let window = BillingWindow(cycle: cycle0, from: created - .days(5), to: cycle0.end + .days(5))
        #expect(window.from == cycle0.start)
        #expect(window.to == cycle0.end)
        let inner = BillingWindow(cycle: cycle0, from: day(3), to: day(7))
        #expect(inner.from == day(3))
        #expect(inner.to == day(7))
    }

    @Test(
        arguments: [
            // span start, span end (nil: still exists), expected day-slots
            (day(0), nil, 0...29),
            (day(0), day(30), 0...29),
            (created - .days(40), nil, 0...29),
            (day(10), nil, 10...29),
            (day(10, hour: 12), day(12, hour: 1), 10...12),  // partial days count as whole day-slots
            (day(5), day(6), 5...5),  // exactly one day
            (day(5), day(5) + SimDuration(seconds: 1), 5...5),  // one second occupies its day-slot
            (day(29, hour: 23), nil, 29...29),
            (day(3, hour: 23), day(4, hour: 1), 3...4),
        ] as [(SimTime, SimTime?, ClosedRange<Int64>)])
    func daysOverlappingASpan(start: SimTime, end: SimTime?, expected: ClosedRange<Int64>) {
        #expect(BillingWindow(cycle: cycle0).days(overlapping: start, end) == expected)
    }

    @Test(
        arguments: [
            (created - .days(10), created),  // ended as the cycle began
            (cycle0.end, nil),  // starts after the cycle
            (day(5), day(5)),  // empty span
            (day(6), day(5)),  // inverted span
        ] as [(SimTime, SimTime?)])
    func spansOutsideTheWindowHaveNoDays(start: SimTime, end: SimTime?) {
        #expect(BillingWindow(cycle: cycle0).days(overlapping: start, end) == nil)
    }

    @Test func windowCutsSpans() {
        let window = BillingWindow(cycle: cycle0, from: day(20), to: day(25, hour: 6))
        #expect(window.days(overlapping: day(0), nil) == 20...25)
        #expect(window.days(overlapping: day(0), day(20)) == nil)
        #expect(window.days(overlapping: day(25, hour: 6), nil) == nil)
        #expect(window.days(overlapping: day(22, hour: 3), day(23, hour: 3)) == 22...23)
    }
}

/// Rules B3, B4, P1, D3: pricing one window of one cycle.
@Suite struct BillingCalculatorTests {
    @Test func nothingUsedCostsNothingAndHasNoLines() {
        let invoice = price()
        #expect(invoice.lines.isEmpty)
        #expect(invoice.subtotal == .zero)
        #expect(invoice.total == .zero)
        #expect(invoice.billing == "rate_card")
        #expect(invoice.periodStart == cycle0.start)
        #expect(invoice.periodEnd == cycle0.end)
    }

    @Test func oneServiceForAWholeCycleCosts105() throws {
        let invoice = price(services: [service("a", from: created)])
        #expect(invoice.serviceDays == 30)
        let line = try #require(invoice.lines.first)
        #expect(invoice.lines.count == 1)
        #expect(line.kind == .service)
        #expect(line.quantity == 30)
        #expect(line.unit == "service-days")
        #expect(line.amount == dollars("105.00"))
        #expect(line.description == "Gateway service svc-a (us)")
        #expect(invoice.subtotal == dollars("105.00"))
        #expect(invoice.creditsApplied == .zero)
        #expect(invoice.total == dollars("105.00"))
    }

    @Test func serviceThatExistedBeforeTheCycleIsChargedForTheCycleOnly() {
        let invoice = price(
            window: BillingWindow(cycle: BillingCycle(index: 4, createdAt: created)),
            services: [service("a", from: created)])
        #expect(invoice.serviceDays == 30)
        #expect(invoice.total == dollars("105.00"))
    }

    @Test(
        arguments: [
            // start, end, day-slots, amount: 105.00 / 30 = 3.50 a day-slot
            (day(10), nil, Int64(20), "70.00"),  // created mid-cycle
            (day(10, hour: 12), day(12, hour: 1), 3, "10.50"),  // partial days count as whole day-slots
            (day(0), day(1), 1, "3.50"),
            (day(7, hour: 23), day(8, hour: 1), 2, "7.00"),  // an hour either side of midnight: two slots
            (day(29, hour: 23), nil, 1, "3.50"),
            (day(0), day(15), 15, "52.50"),  // deleted mid-cycle
        ] as [(SimTime, SimTime?, Int64, String)])
    func servicesAreProratedByDaySlot(start: SimTime, end: SimTime?, slots: Int64, amount: String) {
        let invoice = price(services: [service("a", from: start, to: end)])
        #expect(invoice.serviceDays == slots)
        #expect(invoice.lines.first?.quantity == slots)
        #expect(invoice.total == dollars(amount))
    }

    @Test func serviceOutsideTheCycleHasNoLine() {
        let invoice = price(services: [
            service("old", from: created - .days(10), to: created), service("new", from: cycle0.end),
        ])
        #expect(invoice.lines.isEmpty)
        #expect(invoice.serviceDays == 0)
    }

    @Test func servicesInEveryGeoAreBilledOneLineEachInStartOrder() {
        let invoice = price(services: [
            service("b", from: day(10), geo: "eu"), service("a", from: day(0), geo: "au"),
            service("a", from: day(20), geo: "us"),
        ])
        #expect(
            invoice.lines.map(\.description) == [
                "Gateway service svc-a (au)", "Gateway service svc-b (eu)", "Gateway service svc-a (us)",
            ])
        #expect(invoice.lines.map(\.quantity) == [30, 20, 10])
        #expect(invoice.serviceDays == 60)
        #expect(invoice.total == dollars("210.00"))
        #expect(invoice.lines[0].details["geo"] == "au")
        #expect(invoice.lines[0].details["service_id"] == "a")
    }

    @Test func twoSpansOfOneServiceMergeIntoOneLine() {
        let invoice = price(services: [
            service("a", from: day(0), to: day(5)), service("a", from: day(10), to: day(15)),
        ])
        #expect(invoice.lines.count == 1)
        #expect(invoice.serviceDays == 10)
        #expect(invoice.total == dollars("35.00"))
    }

    @Test func twoSpansOfOneServiceSharingADaySlotCountItOnce() {
        // B3: a service-day is a day-slot in which the service existed, however many spans report it.
        let invoice = price(services: [
            service("a", from: day(0), to: day(4, hour: 6)), service("a", from: day(4, hour: 18), to: day(6)),
        ])
        #expect(invoice.serviceDays == 6)  // slots 0...5
        #expect(invoice.total == dollars("21.00"))
    }

    @Test func onePortalIsIncluded() throws {
        let invoice = price(portals: [portal("p1", from: created)])
        let line = try #require(invoice.lines.first)
        #expect(line.kind == .portals)
        #expect(line.quantity == 0)
        #expect(line.unit == "extra portal-days")
        #expect(line.amount == .zero)
        #expect(line.details["portal_days"] == 30)
        #expect(invoice.portalDays == 30)
        #expect(invoice.total == .zero)
    }

    @Test func twoPortalsWithOneIncludedChargeOnePortalCycle() throws {
        let invoice = price(portals: [portal("p1", from: created), portal("p2", from: created)])
        let line = try #require(invoice.lines.first)
        #expect(line.quantity == 30)
        #expect(line.amount == dollars("300.00"))
        #expect(line.description == "Dev Portals (1 included)")
        #expect(invoice.portalDays == 60)
        #expect(invoice.total == dollars("300.00"))
    }

    @Test func extraPortalDaysAreOnlyThoseAboveTheIncludedCount() {
        // p1 all cycle, p2 for days 0-9, p3 for days 5-9: extra = 10 (p2) + 5 (p3) portal-days.
        let invoice = price(portals: [
            portal("p1", from: created), portal("p2", from: day(0), to: day(10)),
            portal("p3", from: day(5), to: day(10)),
        ])
        #expect(invoice.portalDays == 45)
        #expect(invoice.lines.first?.quantity == 15)
        #expect(invoice.total == dollars("150.00"))
    }

    @Test func consecutivePortalsOnDifferentDaysStayIncluded() {
        // Only one portal is published at any day-slot: nothing is extra.
        let invoice = price(portals: [
            portal("p1", from: day(0), to: day(10)), portal("p2", from: day(10), to: day(20)),
        ])
        #expect(invoice.portalDays == 20)
        #expect(invoice.total == .zero)
    }

    @Test func twoSpansOfOnePortalSharingADaySlotAreOnePortal() {
        let invoice = price(portals: [
            portal("p1", from: day(0), to: day(3, hour: 6)), portal("p1", from: day(3, hour: 18), to: day(5)),
        ])
        #expect(invoice.portalDays == 5)
        #expect(invoice.total == .zero)
    }

    @Test(
        arguments: [
            // calls in the window, amount charged (200.00 per million beyond 1,000,000)
            (Int64(1), "0.00"),
            (999_999, "0.00"),
            (1_000_000, "0.00"),
            (1_000_001, "0.00"),  // 0.02 cents rounds to nothing
            (1_000_025, "0.01"),  // 0.5 cents rounds half up
            (1_500_000, "100.00"),
            (2_000_000, "200.00"),
            (3_250_000, "450.00"),
        ] as [(Int64, String)])
    func apiCallsBeyondTheAllowanceArePricedPerMillion(calls: Int64, amount: String) throws {
        let invoice = price(calls: [APICallRecord(at: day(3), count: calls)])
        let line = try #require(invoice.lines.first)
        #expect(line.kind == .apiCalls)
        #expect(line.quantity == calls)
        #expect(line.details["billable_calls"] == .int(max(0, calls - 1_000_000)))
        #expect(invoice.apiCalls == calls)
        #expect(invoice.total == dollars(amount))
    }

    @Test func apiCallsAreSummedOverRecords() {
        let calls = (0..<30).map { APICallRecord(at: day(Int64($0), hour: 12), count: 50_000) }
        let invoice = price(calls: calls)
        #expect(invoice.apiCalls == 1_500_000)
        #expect(invoice.total == dollars("100.00"))
    }

    @Test func everyCallAttributedToTheWindowCounts() {
        // B3: the auth node attributes calls to the window open when it records them; the calculator
        // counts what it is given, including calls recorded at the window's closing moment.
        let window = BillingWindow(cycle: cycle0, from: day(10), to: day(20))
        let invoice = price(
            window: window,
            calls: [
                APICallRecord(at: day(10), count: 7), APICallRecord(at: day(19, hour: 23), count: 11),
                APICallRecord(at: day(20), count: 13),
            ])
        #expect(invoice.apiCalls == 31)
    }

    @Test func noCallsMeansNoCallLine() {
        #expect(price(calls: []).lines.isEmpty)
    }

    @Test func everythingTogetherAddsUp() {
        let invoice = price(
            services: [service("a", from: created), service("b", from: day(15))],
            portals: [portal("p1", from: created), portal("p2", from: day(20))],
            calls: [APICallRecord(at: day(1), count: 1_250_000)])
        #expect(invoice.lines.map(\.kind) == [.service, .service, .portals, .apiCalls])
        // 105.00 + 52.50 + 100.00 (10 extra portal-days) + 50.00 (250,000 extra calls)
        #expect(invoice.subtotal == dollars("307.50"))
        #expect(invoice.total == dollars("307.50"))
    }

    // MARK: Credits (P1: they pay for trial-period usage only, and run out)

    @Test func creditsPayForUsageDuringTheTrial() {
        // Trial of the whole first cycle, ample credits.
        let invoice = price(services: [service("a", from: created)], trialEnd: cycle0.end, credits: dollars("500.00"))
        #expect(invoice.subtotal == dollars("105.00"))
        #expect(invoice.creditsApplied == dollars("105.00"))
        #expect(invoice.total == .zero)
    }

    @Test func creditsApplyOnlyToTrialDaysWhenTheTrialEndsMidCycle() {
        // A rate card with a 10-day trial: credits pay for day-slots 0-9 only.
        var card = RateCard.standard
        card.trialDays = 10
        let trialEnd = created + .days(card.trialDays)
        let invoice = price(
            rateCard: card, services: [service("a", from: created)], trialEnd: trialEnd, credits: card.trialCredits)
        #expect(invoice.lines.first?.trialAmount == dollars("35.00"))
        #expect(invoice.creditsApplied == dollars("35.00"))
        #expect(invoice.total == dollars("70.00"))
    }

    @Test func serviceCreatedAfterTheTrialGetsNoCredits() {
        let invoice = price(services: [service("a", from: day(12))], trialEnd: day(10), credits: dollars("500.00"))
        #expect(invoice.creditsApplied == .zero)
        #expect(invoice.total == dollars("63.00"))
    }

    @Test func trialEndingPartWayThroughADayMakesThatDayATrialDay() {
        // Day-slots starting before the trial's end are trial days: 0-10 here.
        let invoice = price(
            services: [service("a", from: created)], trialEnd: day(10, hour: 12), credits: dollars("500.00"))
        #expect(invoice.creditsApplied == dollars("38.50"))
        #expect(invoice.total == dollars("66.50"))
    }

    @Test func trialThatEndedBeforeTheCycleGivesNoCredits() {
        let cycle1 = BillingCycle(index: 1, createdAt: created)
        let invoice = price(
            window: BillingWindow(cycle: cycle1), services: [service("a", from: created)],
            trialEnd: created + .days(30),
            credits: dollars("500.00"))
        #expect(invoice.creditsApplied == .zero)
        #expect(invoice.total == dollars("105.00"))
    }

    @Test func noTrialMeansNoCredits() {
        let invoice = price(services: [service("a", from: created)], trialEnd: nil, credits: dollars("500.00"))
        #expect(invoice.creditsApplied == .zero)
    }

    @Test func creditsRunOut() {
        // Charges 315.00 + 300.00 during the trial; only 500.00 of credits.
        let invoice = price(
            services: [service("a", from: created), service("b", from: created), service("c", from: created)],
            portals: [portal("p1", from: created), portal("p2", from: created)], trialEnd: cycle0.end,
            credits: dollars("500.00"))
        #expect(invoice.subtotal == dollars("615.00"))
        #expect(invoice.creditsApplied == dollars("500.00"))
        #expect(invoice.total == dollars("115.00"))
    }

    @Test func smallCreditBalanceIsAllUsed() {
        var card = RateCard.standard
        card.trialDays = 10
        let invoice = price(
            rateCard: card, services: [service("a", from: created)], trialEnd: created + .days(10),
            credits: dollars("20.00"))
        #expect(invoice.creditsApplied == dollars("20.00"))
        #expect(invoice.total == dollars("85.00"))
    }

    @Test func negativeCreditBalanceAppliesNothing() {
        let invoice = price(services: [service("a", from: created)], trialEnd: cycle0.end, credits: Money(cents: -100))
        #expect(invoice.creditsApplied == .zero)
        #expect(invoice.total == dollars("105.00"))
    }

    @Test func extraPortalDaysDuringTheTrialAreCreditable() {
        var card = RateCard.standard
        card.trialDays = 10
        // p2 is extra for all 30 days: 300.00, of which days 0-9 (100.00) fall in the trial.
        let invoice = price(
            rateCard: card, portals: [portal("p1", from: created), portal("p2", from: created)],
            trialEnd: created + .days(10),
            credits: dollars("500.00"))
        #expect(invoice.lines.first?.trialAmount == dollars("100.00"))
        #expect(invoice.creditsApplied == dollars("100.00"))
        #expect(invoice.total == dollars("200.00"))
    }

    @Test func callsBeyondTheAllowanceBeforeTheTrialEndAreCreditable() {
        // The calls beyond the allowance are the latest ones: 200,000 of them fall in the trial.
        let invoice = price(
            calls: [APICallRecord(at: day(5), count: 1_200_000), APICallRecord(at: day(15), count: 300_000)],
            trialEnd: day(10),
            credits: dollars("500.00"))
        #expect(invoice.subtotal == dollars("100.00"))
        #expect(invoice.creditsApplied == dollars("40.00"))
        #expect(invoice.total == dollars("60.00"))
    }

    @Test func callsWithinTheAllowanceDuringTheTrialEarnNoCredit() {
        // All 500,000 extra calls happen after the trial.
        let invoice = price(
            calls: [APICallRecord(at: day(5), count: 800_000), APICallRecord(at: day(15), count: 700_000)],
            trialEnd: day(10),
            credits: dollars("500.00"))
        #expect(invoice.subtotal == dollars("100.00"))
        #expect(invoice.creditsApplied == .zero)
        #expect(invoice.total == dollars("100.00"))
    }

    // MARK: Deactivation and reactivation windows (D3, D7)

    @Test func deactivationCutsTheWindowAndStopsCharges() {
        let window = BillingWindow(cycle: cycle0, to: day(10, hour: 6))
        let invoice = price(
            window: window, services: [service("a", from: created)],
            portals: [portal("p1", from: created), portal("p2", from: created)],
            calls: [APICallRecord(at: day(2), count: 1_000_000)])
        #expect(invoice.periodEnd == day(10, hour: 6))
        #expect(invoice.serviceDays == 11)  // slots 0-10
        #expect(invoice.portalDays == 22)
        #expect(invoice.apiCalls == 1_000_000)  // calls recorded after billing stopped are not attributed to it
        // 38.50 for the service + 110.00 for 11 extra portal-days + nothing for calls
        #expect(invoice.total == dollars("148.50"))
    }

    @Test func reactivationBillsTheRestOfTheCycle() {
        let window = BillingWindow(cycle: cycle0, from: day(20))
        let invoice = price(window: window, services: [service("a", from: created)])
        #expect(invoice.periodStart == day(20))
        #expect(invoice.serviceDays == 10)
        #expect(invoice.total == dollars("35.00"))
    }

    @Test func emptyWindowCostsNothing() {
        let window = BillingWindow(cycle: cycle0, from: day(10), to: day(10))
        let invoice = price(window: window, services: [service("a", from: created)])
        #expect(invoice.lines.isEmpty)
        #expect(invoice.total == .zero)
    }

    // MARK: Enterprise (P1: usage recorded, billed by contract)

    @Test func enterpriseContractRecordsQuantitiesButChargesNothing() {
        let invoice = price(
            services: [service("a", from: created), service("b", from: day(15))],
            portals: [portal("p1", from: created), portal("p2", from: created)],
            calls: [APICallRecord(at: day(1), count: 3_000_000)], trialEnd: cycle0.end, credits: dollars("500.00"),
            contract: true)
        #expect(invoice.billing == "contract")
        #expect(invoice.serviceDays == 45)
        #expect(invoice.portalDays == 60)
        #expect(invoice.apiCalls == 3_000_000)
        #expect(invoice.lines.count == 4)
        #expect(invoice.lines.map(\.quantity) == [30, 15, 30, 3_000_000])
        #expect(invoice.lines.allSatisfy { $0.amount == .zero && $0.trialAmount == .zero })
        #expect(invoice.subtotal == .zero)
        #expect(invoice.creditsApplied == .zero)
        #expect(invoice.total == .zero)
    }

    // MARK: Leap days

    @Test func leapDayCycleIsThirtyDaySlots() {
        // Created 2028-02-15: cycle 0 runs to 2028-03-16 and includes 2028-02-29 as day-slot 14.
        let createdAt = SimTime(year: 2028, month: 2, day: 15)
        let cycle = BillingCycle(index: 0, createdAt: createdAt)
        #expect(cycle.end.iso8601 == "2028-03-16T00:00:00Z")
        let leapDayOnly = price(
            window: BillingWindow(cycle: cycle),
            services: [
                service("a", from: SimTime(year: 2028, month: 2, day: 29), to: SimTime(year: 2028, month: 3, day: 1))
            ])
        #expect(leapDayOnly.serviceDays == 1)
        #expect(leapDayOnly.total == dollars("3.50"))
        let whole = price(window: BillingWindow(cycle: cycle), services: [service("a", from: createdAt)])
        #expect(whole.serviceDays == 30)
        #expect(whole.total == dollars("105.00"))
    }

    @Test func organizationCreatedOnALeapDayKeepsThirtyDayCycles() {
        let createdAt = SimTime(year: 2028, month: 2, day: 29, hour: 9)
        let cycle = BillingCycle(index: 12, createdAt: createdAt)
        #expect(cycle.start == createdAt + .days(360))
        #expect(cycle.start.iso8601 == "2029-02-23T09:00:00Z")
        let invoice = price(window: BillingWindow(cycle: cycle), services: [service("a", from: createdAt)])
        #expect(invoice.total == dollars("105.00"))
    }

    // MARK: JSON

    @Test func invoiceJSONShape() {
        let invoice = price(services: [service("a", from: day(10))], calls: [APICallRecord(at: day(1), count: 10)])
        let json = invoice.json
        #expect(json["cycle"] == 0)
        #expect(json["period_start"] == "2026-01-01T00:00:00Z")
        #expect(json["period_end"] == "2026-01-31T00:00:00Z")
        #expect(json["billing"] == "rate_card")
        #expect(json["usage"] == ["service_days": 20, "portal_days": 0, "api_calls": 10])
        #expect(json["subtotal"] == "70.00")
        #expect(json["credits_applied"] == "0.00")
        #expect(json["total"] == "70.00")
        #expect(
            json.value(atPath: "lines.0") == [
                "kind": "service", "description": "Gateway service svc-a (us)", "quantity": 20, "unit": "service-days",
                "amount": "70.00", "service_id": "a", "geo": "us",
            ])
        #expect(json.value(atPath: "lines.1.kind") == "api_calls")
        #expect(json.value(atPath: "lines.1.billable_calls") == 0)
    }
}
