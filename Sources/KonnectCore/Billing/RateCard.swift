/// Prices and allowances for Plus organizations (B4). `standard` holds the defaults, also shipped as
/// `Scenarios/rate-cards/default.json` (a test checks they agree); a cluster takes another file with
/// `up --rate-card FILE`, where members left out keep the standard values.
public struct RateCard: Sendable, Hashable {
    /// Charged per Gateway service for a whole cycle, prorated by day.
    public var servicePerCycle: Money
    /// Dev Portals included at no charge at any moment.
    public var portalsIncluded: Int64
    /// Charged per extra published Dev Portal for a whole cycle, prorated by day.
    public var portalPerCycle: Money
    /// API calls included per cycle.
    public var apiCallsIncluded: Int64
    /// Charged per million API calls beyond the included ones (prorated per call).
    public var apiCallsPerMillion: Money
    /// Free credits a new Plus organization receives for its trial.
    public var trialCredits: Money
    /// Length of the Plus trial; credits expire at its end.
    public var trialDays: Int64
    public var currency: String

    /// Cycles are 30-day increments from the organization's creation (B2): not configurable.
    public static let cycleDays: Int64 = 30

    public static let standard = RateCard(
        servicePerCycle: Money(cents: 10_500), portalsIncluded: 1, portalPerCycle: Money(cents: 30_000),
        apiCallsIncluded: 1_000_000, apiCallsPerMillion: Money(cents: 20_000), trialCredits: Money(cents: 50_000),
        trialDays: 30, currency: "USD")

    public init(
        servicePerCycle: Money, portalsIncluded: Int64, portalPerCycle: Money, apiCallsIncluded: Int64,
        apiCallsPerMillion: Money, trialCredits: Money, trialDays: Int64, currency: String
    ) {
        self.servicePerCycle = servicePerCycle
        self.portalsIncluded = portalsIncluded
        self.portalPerCycle = portalPerCycle
        self.apiCallsIncluded = apiCallsIncluded
        self.apiCallsPerMillion = apiCallsPerMillion
        self.trialCredits = trialCredits
        self.trialDays = trialDays
        self.currency = currency
    }

    public var json: JSON {
        [
            "currency": .string(currency),
            "service_per_cycle": servicePerCycle.json,
            "portals_included": .int(portalsIncluded),
            "portal_per_cycle": portalPerCycle.json,
            "api_calls_included": .int(apiCallsIncluded),
            "api_calls_per_million": apiCallsPerMillion.json,
            "trial_credits": trialCredits.json,
            "trial_days": .int(trialDays),
            "cycle_days": .int(RateCard.cycleDays),
        ]
    }

    /// Reads a rate card; members left out keep the standard values. Amounts are decimal strings
    /// (`"105.00"`) so that no money passes through floating point.
    public init(json: JSON) throws(APIError) {
        var reader = try ObjectReader(json)
        var card = RateCard.standard
        func money(_ key: String, _ reader: inout ObjectReader) -> Money? {
            guard let text = reader.string(key, nullable: false, maxLength: 20) else { return nil }
            guard let value = Money(decimal: text) else {
                reader.fail(key, "invalid", "must be a decimal amount such as \"105.00\", got \"\(text)\"")
                return nil
            }
            return value
        }
        if let value = reader.string("currency", nullable: false, minLength: 3, maxLength: 3) { card.currency = value }
        if let value = money("service_per_cycle", &reader) { card.servicePerCycle = value }
        if let value = reader.int("portals_included", nullable: false, min: 0, max: 1_000_000) {
            card.portalsIncluded = value
        }
        if let value = money("portal_per_cycle", &reader) { card.portalPerCycle = value }
        if let value = reader.int("api_calls_included", nullable: false, min: 0, max: 1_000_000_000_000) {
            card.apiCallsIncluded = value
        }
        if let value = money("api_calls_per_million", &reader) { card.apiCallsPerMillion = value }
        if let value = money("trial_credits", &reader) { card.trialCredits = value }
        if let value = reader.int("trial_days", nullable: false, min: 0, max: 3650) { card.trialDays = value }
        if let value = reader.int("cycle_days", nullable: false, min: RateCard.cycleDays, max: RateCard.cycleDays) {
            _ = value  // accepted for readability of the file; cycles are always 30 days (B2)
        }
        try reader.finish()
        self = card
    }
}
