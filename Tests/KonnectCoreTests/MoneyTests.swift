import Testing

@testable import KonnectCore

@Suite struct MoneyTests {
    @Test(
        arguments: [
            (0, "0.00"), (5, "0.05"), (10, "0.10"), (99, "0.99"), (100, "1.00"), (10_500, "105.00"),
            (123_456, "1234.56"),
            (-350, "-3.50"), (-5, "-0.05"), (Int64.max, "92233720368547758.07"), (Int64.min, "-92233720368547758.08"),
        ] as [(Int64, String)])
    func formatsWithTwoDecimals(cents: Int64, text: String) {
        #expect(Money(cents: cents).description == text)
        #expect(Money(cents: cents).json == .string(text))
    }

    @Test(
        arguments: [
            ("105", 10_500), ("105.5", 10_550), ("105.00", 10_500), ("105.05", 10_505), ("0", 0), ("0.01", 1),
            ("007.10", 710),
            ("999999999999.99", 99_999_999_999_999),
        ] as [(String, Int64)])
    func parsesDecimalAmounts(text: String, cents: Int64) {
        #expect(Money(decimal: text) == Money(cents: cents))
    }

    @Test(arguments: [
        "", ".", ".5", "5.", "1.234", "-1", "-0", "+5", "+5.00", "1e2", "1,00", "1.2.3", " 1", "1 ", "abc", "1.a",
        "1.-5", "1.+5", "٣.00", "1000000000000",  // thirteen digits
    ])
    func rejectsOtherText(text: String) {
        #expect(Money(decimal: text) == nil)
    }

    @Test func parsingInvertsFormattingForNonNegativeAmounts() {
        for cents: Int64 in [0, 1, 9, 10, 99, 100, 101, 10_500, 99_999, 123_456_789] {
            #expect(Money(decimal: Money(cents: cents).description) == Money(cents: cents))
        }
    }

    @Test func arithmeticAndOrder() {
        #expect(Money(cents: 150) + Money(cents: 75) == Money(cents: 225))
        #expect(Money(cents: 150) - Money(cents: 175) == Money(cents: -25))
        #expect(Money(cents: 1) < Money(cents: 2))
        #expect(min(Money(cents: 5), .zero) == .zero)
        #expect(Money.zero.cents == 0)
    }

    @Test(
        arguments: [
            // amount cents, multiplier, divisor, expected cents
            (10_500, 30, 30, 10_500),  // a whole cycle
            (10_500, 1, 30, 350),  // one service-day
            (10_500, 7, 30, 2_450),
            (10_000, 1, 30, 333),  // 333.33... rounds down
            (10_000, 2, 30, 667),  // 666.66... rounds up
            (1, 1, 2, 1),  // exactly half rounds up
            (3, 1, 2, 2),  // 1.5 rounds up
            (1, 1, 3, 0),  // 0.33 rounds down
            (2, 1, 3, 1),  // 0.67 rounds up
            (20_000, 1, 1_000_000, 0),  // one call beyond the allowance: 0.02 cents
            (20_000, 25, 1_000_000, 1),  // 0.5 cents rounds up
            (20_000, 24, 1_000_000, 0),  // 0.48 cents rounds down
            (20_000, 500_000, 1_000_000, 10_000),
            (20_000, 1_500_000, 1_000_000, 30_000),
            (10_500, 0, 30, 0),
            (0, 30, 30, 0),
        ] as [(Int64, Int64, Int64, Int64)])
    func prorateRoundsHalfUp(amount: Int64, times: Int64, over: Int64, expected: Int64) {
        #expect(Money.prorate(Money(cents: amount), times: times, over: over) == Money(cents: expected))
    }

    @Test func prorateIsExactBeyondSixtyFourBitProducts() {
        // 9e15 cents * 1e6 overflows Int64 but the 128-bit product divides back exactly.
        #expect(
            Money.prorate(Money(cents: 9_000_000_000_000_000), times: 1_000_000, over: 1_000_000)
                == Money(cents: 9_000_000_000_000_000))
        #expect(Money.prorate(Money(cents: Int64.max), times: 3, over: 3) == Money(cents: Int64.max))
    }

    @Test func prorateClampsResultsBeyondInt64() {
        #expect(Money.prorate(Money(cents: Int64.max), times: 2, over: 1) == Money(cents: Int64.max))
        #expect(Money.prorate(Money(cents: Int64.max), times: Int64.max, over: 1) == Money(cents: Int64.max))
    }
}

/// Review regression: money and call totals saturate instead of trapping.
@Suite struct SaturatingMoneyTests {
    @Test func additionSaturates() {
        #expect((Money(cents: .max) + Money(cents: 1)).cents == .max)
        #expect((Money(cents: .min) - Money(cents: 1)).cents == .min)
    }

    @Test func hugeCallCountsDoNotTrap() {
        let cycle = BillingCycle(index: 0, createdAt: .defaultStart)
        let invoice = BillingCalculator.invoice(
            window: BillingWindow(cycle: cycle), rateCard: .standard, services: [], portals: [],
            calls: [
                APICallRecord(at: .defaultStart, count: .max), APICallRecord(at: .defaultStart + .days(1), count: .max),
            ], trialEnd: nil,
            creditsAvailable: .zero, contract: false)
        #expect(invoice.apiCalls == .max)
    }
}
