import Testing

@testable import KonnectCore

private func rateCardError(_ json: JSON) -> APIError? {
    do {
        _ = try RateCard(json: json)
        return nil
    } catch {
        return error
    }
}

/// Rule B4 (and P1's default credits): the rate card file and its defaults.
@Suite struct RateCardTests {
    @Test func standardValues() {
        let card = RateCard.standard
        #expect(card.servicePerCycle == Money(cents: 10_500))
        #expect(card.portalsIncluded == 1)
        #expect(card.portalPerCycle == Money(cents: 30_000))
        #expect(card.apiCallsIncluded == 1_000_000)
        #expect(card.apiCallsPerMillion == Money(cents: 20_000))
        #expect(card.trialCredits == Money(cents: 50_000))  // P1: 500.00 by default
        #expect(card.trialDays == 30)  // P1: a 30-day trial
        #expect(card.currency == "USD")
        #expect(RateCard.cycleDays == 30)  // B2
    }

    @Test func jsonShapeUsesDecimalStringsForMoney() {
        #expect(
            RateCard.standard.json == [
                "currency": "USD", "service_per_cycle": "105.00", "portals_included": 1, "portal_per_cycle": "300.00",
                "api_calls_included": 1_000_000, "api_calls_per_million": "200.00", "trial_credits": "500.00",
                "trial_days": 30,
                "cycle_days": 30,
            ])
    }

    @Test func emptyObjectGivesTheStandardCard() throws {
        #expect(try RateCard(json: JSON.object(JSONObject())) == .standard)
    }

    @Test func standardCardReadsBackFromItsJSON() throws {
        #expect(try RateCard(json: RateCard.standard.json) == .standard)
    }

    @Test func everyMemberCanBeOverridden() throws {
        let card = try RateCard(json: [
            "currency": "EUR", "service_per_cycle": "99.9", "portals_included": 3, "portal_per_cycle": "0",
            "api_calls_included": 0, "api_calls_per_million": "1.25", "trial_credits": "0.00", "trial_days": 10,
            "cycle_days": 30,
        ])
        #expect(
            card
                == RateCard(
                    servicePerCycle: Money(cents: 9_990), portalsIncluded: 3, portalPerCycle: .zero,
                    apiCallsIncluded: 0,
                    apiCallsPerMillion: Money(cents: 125), trialCredits: .zero, trialDays: 10, currency: "EUR"))
        #expect(try RateCard(json: card.json) == card)
    }

    @Test func membersLeftOutKeepTheirStandardValue() throws {
        let card = try RateCard(json: ["trial_credits": "250.00"])
        var expected = RateCard.standard
        expected.trialCredits = Money(cents: 25_000)
        #expect(card == expected)
    }

    @Test(
        arguments: [
            (JSON.object(JSONObject([("currency", "US")])), "currency", "min_length"),
            (["currency": "USDX"], "currency", "max_length"),
            (["currency": nil], "currency", "is_null"),
            (["currency": 840], "currency", "is_string"),
            (["service_per_cycle": 105], "service_per_cycle", "is_string"),
            (["service_per_cycle": "-5.00"], "service_per_cycle", "invalid"),
            (["service_per_cycle": "1.005"], "service_per_cycle", "invalid"),
            (["service_per_cycle": "1e2"], "service_per_cycle", "invalid"),
            (["service_per_cycle": "123456789012345678.01"], "service_per_cycle", "max_length"),
            (["trial_credits": nil], "trial_credits", "is_null"),
            (["portal_per_cycle": "free"], "portal_per_cycle", "invalid"),
            (["api_calls_per_million": ""], "api_calls_per_million", "invalid"),
            (["portals_included": -1], "portals_included", "min"),
            (["portals_included": 1_000_001], "portals_included", "max"),
            (["portals_included": 1.5], "portals_included", "is_integer"),
            (["api_calls_included": 1_000_000_000_001], "api_calls_included", "max"),
            (["trial_days": -1], "trial_days", "min"),
            (["trial_days": 3651], "trial_days", "max"),
            (["cycle_days": 29], "cycle_days", "min"),
            (["cycle_days": 31], "cycle_days", "max"),
            (["cycle_days": "30"], "cycle_days", "is_integer"),
            (["surcharge": "1.00"], "surcharge", "unknown_property"),
        ] as [(JSON, String, String)])
    func invalidMembersAreRejected(json: JSON, field: String, rule: String) throws {
        let error = try #require(rateCardError(json))
        #expect(error.status == 400)
        #expect(error.invalidParameters.map(\.field) == [field])
        #expect(error.invalidParameters.map(\.rule) == [rule])
    }

    @Test func invalidAmountReasonQuotesTheText() throws {
        let error = try #require(rateCardError(["service_per_cycle": "abc"]))
        #expect(error.invalidParameters.first?.reason == "must be a decimal amount such as \"105.00\", got \"abc\"")
    }

    @Test func everyProblemIsReportedAtOnce() throws {
        let error = try #require(
            rateCardError(["currency": "X", "trial_days": -3, "service_per_cycle": "x", "bogus": true]))
        #expect(error.invalidParameters.map(\.field) == ["currency", "service_per_cycle", "trial_days", "bogus"])
    }

    @Test(arguments: [JSON.null, [1], "card", 3] as [JSON])
    func nonObjectIsRejected(json: JSON) {
        #expect(rateCardError(json)?.invalidParameters.map(\.rule) == ["is_object"])
    }
}
