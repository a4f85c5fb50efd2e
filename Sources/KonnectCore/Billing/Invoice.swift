/// One line of an invoice or usage view.
public struct InvoiceLine: Sendable, Hashable {
    public enum Kind: String, Sendable {
        case service
        case portals = "dev_portals"
        case apiCalls = "api_calls"
    }

    public var kind: Kind
    public var description: String
    /// Service-days, extra portal-days, or API calls.
    public var quantity: Int64
    public var unit: String
    public var amount: Money
    /// The part of `amount` incurred during the trial, which credits may pay.
    public var trialAmount: Money
    public var details: JSONObject

    public var json: JSON {
        var object = JSONObject([
            ("kind", .string(kind.rawValue)), ("description", .string(description)), ("quantity", .int(quantity)),
            ("unit", .string(unit)), ("amount", amount.json),
        ])
        for (key, value) in details { object[key] = value }
        return .object(object)
    }
}

/// A cycle's usage priced by the rate card (B4): what the Billing and Usage view shows for a cycle, and
/// what an invoice freezes at its end.
public struct Invoice: Sendable, Hashable {
    public var cycle: BillingCycle
    public var periodStart: SimTime
    public var periodEnd: SimTime
    public var lines: [InvoiceLine]
    public var subtotal: Money
    public var creditsApplied: Money
    public var total: Money
    /// `rate_card` for Plus, `contract` for Enterprise (usage recorded, not charged, P1).
    public var billing: String
    public var serviceDays: Int64
    public var portalDays: Int64
    public var apiCalls: Int64

    public var json: JSON {
        [
            "cycle": .int(cycle.index),
            "period_start": .string(periodStart.iso8601),
            "period_end": .string(periodEnd.iso8601),
            "billing": .string(billing),
            "usage": [
                "service_days": .int(serviceDays), "portal_days": .int(portalDays), "api_calls": .int(apiCalls),
            ],
            "lines": .array(lines.map(\.json)),
            "subtotal": subtotal.json,
            "credits_applied": creditsApplied.json,
            "total": total.json,
        ]
    }
}

/// Prices a window of a cycle: the pure heart of billing.
public enum BillingCalculator {
    /// - Parameters:
    ///   - services: spans of the organization's Gateway services (in every geo).
    ///   - portals: spans during which Dev Portals were published.
    ///   - calls: the API calls recorded for this window. The auth node attributes each call to the window
    ///     that was open when the call was recorded, so no call is counted twice or lost, also when a
    ///     deactivation and a reactivation happen at the same calendar moment.
    ///   - trialEnd: credits pay only for usage before this moment.
    ///   - creditsAvailable: unexpired credits left before this invoice.
    ///   - contract: Enterprise: quantities recorded, nothing charged.
    public static func invoice(
        window: BillingWindow, rateCard: RateCard, services: [UsageSpan], portals: [UsageSpan], calls: [APICallRecord],
        trialEnd: SimTime?, creditsAvailable: Money, contract: Bool
    ) -> Invoice {
        let cycleDays = RateCard.cycleDays
        let trialDay: Int64 = {
            guard let trialEnd else { return 0 }
            // Day-slots starting before the trial's end are trial days.
            let elapsed = trialEnd.seconds - window.cycle.start.seconds
            if elapsed <= 0 { return 0 }
            return min(cycleDays, (elapsed + SimTime.secondsPerDay - 1) / SimTime.secondsPerDay)
        }()
        var lines: [InvoiceLine] = []
        var serviceDays: Int64 = 0
        // A service's day-slots are a set: two spans of one service sharing a day-slot count it once.
        var perService: [(key: String, span: UsageSpan, slots: Set<Int64>)] = []
        for span in services {
            guard let days = window.days(overlapping: span.start, span.end) else { continue }
            let key = "\(span.geo)/\(span.scope)/\(span.id)"
            if let existing = perService.firstIndex(where: { $0.key == key }) {
                perService[existing].slots.formUnion(days)
            } else {
                perService.append((key, span, Set(days)))
            }
        }
        for entry in perService.sorted(by: { ($0.span.start, $0.key) < ($1.span.start, $1.key) }) {
            let days = Int64(entry.slots.count)
            let trialDays = Int64(entry.slots.count(where: { $0 < trialDay }))
            serviceDays += days
            let amount = contract ? Money.zero : Money.prorate(rateCard.servicePerCycle, times: days, over: cycleDays)
            let trial =
                contract ? Money.zero : Money.prorate(rateCard.servicePerCycle, times: trialDays, over: cycleDays)
            lines.append(
                InvoiceLine(
                    kind: .service, description: "Gateway service \(entry.span.name) (\(entry.span.geo))",
                    quantity: days,
                    unit: "service-days", amount: amount, trialAmount: min(trial, amount),
                    details: JSONObject([("service_id", .string(entry.span.id)), ("geo", .string(entry.span.geo))])))
        }

        // Dev Portals: count published portals per day; days beyond the included number are charged.
        var portalDays: Int64 = 0
        var extraDays: Int64 = 0
        var extraTrialDays: Int64 = 0
        // Distinct portals per day-slot: two spans of one portal sharing a day-slot count it once.
        var perDay = [Set<String>](repeating: [], count: Int(cycleDays))
        for span in portals {
            guard let days = window.days(overlapping: span.start, span.end) else { continue }
            for day in days where day >= 0 && day < cycleDays { perDay[Int(day)].insert("\(span.geo)/\(span.id)") }
        }
        for (day, portalsThatDay) in perDay.enumerated() {
            let count = Int64(portalsThatDay.count)
            portalDays += count
            let extra = max(0, count - rateCard.portalsIncluded)
            extraDays += extra
            if Int64(day) < trialDay { extraTrialDays += extra }
        }
        if portalDays > 0 {
            let amount =
                contract ? Money.zero : Money.prorate(rateCard.portalPerCycle, times: extraDays, over: cycleDays)
            let trial =
                contract ? Money.zero : Money.prorate(rateCard.portalPerCycle, times: extraTrialDays, over: cycleDays)
            lines.append(
                InvoiceLine(
                    kind: .portals, description: "Dev Portals (\(rateCard.portalsIncluded) included)",
                    quantity: extraDays,
                    unit: "extra portal-days", amount: amount, trialAmount: min(trial, amount),
                    details: JSONObject([("portal_days", .int(portalDays))])))
        }

        // API calls: the calls beyond the included amount are the latest ones of the window.
        let inWindow = calls.sorted { $0.at < $1.at }
        // Saturating sums: counts come from outside; a total beyond Int64 is clamped, never a trap.
        let totalCalls = inWindow.reduce(Int64(0)) {
            $0.addingReportingOverflow(max(0, $1.count)).overflow ? .max : $0 + max(0, $1.count)
        }
        if totalCalls > 0 {
            var seen: Int64 = 0
            var extraTrial: Int64 = 0
            for record in inWindow {
                let before = seen
                let (next, overflow) = seen.addingReportingOverflow(max(0, record.count))
                seen = overflow ? .max : next
                let extraHere = max(0, seen - max(before, rateCard.apiCallsIncluded))
                if let trialEnd, record.at < trialEnd { extraTrial += extraHere }
            }
            let extra = max(0, totalCalls - rateCard.apiCallsIncluded)
            let amount =
                contract ? Money.zero : Money.prorate(rateCard.apiCallsPerMillion, times: extra, over: 1_000_000)
            let trial =
                contract ? Money.zero : Money.prorate(rateCard.apiCallsPerMillion, times: extraTrial, over: 1_000_000)
            lines.append(
                InvoiceLine(
                    kind: .apiCalls, description: "API calls (\(rateCard.apiCallsIncluded) included)",
                    quantity: totalCalls,
                    unit: "calls", amount: amount, trialAmount: min(trial, amount),
                    details: JSONObject([("billable_calls", .int(extra))])))
        }

        let subtotal = lines.reduce(Money.zero) { $0 + $1.amount }
        let creditable = lines.reduce(Money.zero) { $0 + $1.trialAmount }
        let credits = contract ? Money.zero : min(max(Money.zero, creditsAvailable), creditable)
        return Invoice(
            cycle: window.cycle, periodStart: window.from, periodEnd: window.to, lines: lines, subtotal: subtotal,
            creditsApplied: credits, total: subtotal - credits, billing: contract ? "contract" : "rate_card",
            serviceDays: serviceDays, portalDays: portalDays, apiCalls: totalCalls)
    }
}
