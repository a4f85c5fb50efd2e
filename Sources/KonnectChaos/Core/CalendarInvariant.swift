import KonnectCore
import KonnectScenario

/// The calendar (B1, B2, B4, A5): each due event exactly once, in order; invoices never duplicated.
/// From each organization's final state history and invoices:
/// - the state history moves forward in calendar time, by allowed transitions only (active, inactive,
///   deleting, deleted; back to active only from inactive), never beyond the calendar's moment;
/// - invoices have distinct ids and periods that never overlap, issued in period order, each at its
///   period's end;
/// - the invoices are exactly the due ones: every 30-day cycle that ended while the organization was
///   active, and the part of the open cycle up to each deactivation (billing stops at once, D3), and
///   nothing for the open cycle;
/// - the retention period ends on time: an organization inactive for its retention period is deleting
///   from that exact moment.
enum CalendarInvariant {
    struct Period: Hashable, Comparable {
        var start: SimTime
        var end: SimTime
        static func < (a: Period, b: Period) -> Bool { (a.start, a.end) < (b.start, b.end) }
        var text: String { "[\(start.iso8601), \(end.iso8601))" }
    }

    static let transitions: Set<String> = [
        "active>inactive", "inactive>active", "inactive>deleting", "deleting>deleted",
    ]

    static func check(_ facts: RunFacts) -> CheckVerdict {
        guard let now = facts.finalCalendar else {
            return CheckVerdict(invariant: "calendar", notes: ["no final observations with a known calendar"])
        }
        var violations: [Violation] = []
        let invoices = finalInvoices(facts)
        let views = facts.finalOrganizationViews
        for (organization, view) in views.sorted(by: { $0.key < $1.key }) {
            let history = view.view["state_history"]?.arrayValue ?? []
            guard let createdAt = view.view["created_at"]?.stringValue.flatMap(SimTime.init(iso8601:)) else { continue }
            var events = [view.event]
            if let list = invoices[organization] { events.append(list.event) }
            violations += historyViolations(organization, history, now: now, events: events)
            let retention = view.view["retention_period_days"]?.intValue ?? 90
            violations += retentionViolations(organization, history, retentionDays: retention, now: now, events: events)
            guard let list = invoices[organization] else { continue }
            violations += invoiceViolations(
                organization, list.invoices, expected: expectedPeriods(history, createdAt: createdAt, now: now),
                now: now, events: events)
        }
        return CheckVerdict(
            invariant: "calendar",
            notes: [
                "\(views.count) organizations, \(invoices.values.reduce(0) { $0 + $1.invoices.count }) invoices, calendar at \(now.iso8601)"
            ],
            violations: violations)
    }

    static func historyViolations(_ organization: String, _ history: [JSON], now: SimTime, events: [Int])
        -> [Violation]
    {
        var violations: [Violation] = []
        var previous: (state: String, at: SimTime)? = nil
        for change in history {
            let state = change["state"]?.stringValue ?? ""
            guard let at = change["at"]?.stringValue.flatMap(SimTime.init(iso8601:)) else { continue }
            if at > now {
                violations.append(
                    Violation(
                        "organization \(organization) became \(state) at \(at.iso8601), after the calendar's moment \(now.iso8601)",
                        events: events))
            }
            if let previous {
                if at < previous.at {
                    violations.append(
                        Violation(
                            "organization \(organization)'s state history goes back in time: \(previous.state) at \(previous.at.iso8601), then \(state) at \(at.iso8601)",
                            events: events))
                }
                if !transitions.contains("\(previous.state)>\(state)") {
                    violations.append(
                        Violation(
                            "organization \(organization) went from \(previous.state) to \(state) at \(at.iso8601) (\(change["reason"]?.stringValue ?? "")): a due event happened twice or out of order",
                            events: events))
                }
            }
            previous = (state, at)
        }
        return violations
    }

    static func retentionViolations(
        _ organization: String, _ history: [JSON], retentionDays: Int64, now: SimTime, events: [Int]
    ) -> [Violation] {
        var violations: [Violation] = []
        var deactivatedAt: SimTime? = nil
        for change in history {
            guard let at = change["at"]?.stringValue.flatMap(SimTime.init(iso8601:)) else { continue }
            switch change["state"]?.stringValue {
            case "inactive": deactivatedAt = at
            case "active": deactivatedAt = nil
            case "deleting":
                if let deactivatedAt, at != deactivatedAt + .days(retentionDays) {
                    violations.append(
                        Violation(
                            "organization \(organization) started deleting at \(at.iso8601); its retention period of \(retentionDays) days from \(deactivatedAt.iso8601) ends at \((deactivatedAt + .days(retentionDays)).iso8601)",
                            events: events))
                }
                deactivatedAt = nil
            default: break
            }
        }
        if let deactivatedAt, deactivatedAt + .days(retentionDays) <= now {
            violations.append(
                Violation(
                    "organization \(organization) is still inactive at \(now.iso8601), but its retention period ended at \((deactivatedAt + .days(retentionDays)).iso8601)",
                    events: events))
        }
        return violations
    }

    /// The periods due by `now`: per active interval, each cycle that ended inside it, and the part of
    /// the open cycle up to a deactivation.
    static func expectedPeriods(_ history: [JSON], createdAt: SimTime, now: SimTime) -> [Period] {
        var intervals: [(start: SimTime, end: SimTime, closed: Bool)] = []
        var activeSince: SimTime? = nil
        for change in history {
            guard let at = change["at"]?.stringValue.flatMap(SimTime.init(iso8601:)) else { continue }
            if change["state"]?.stringValue == "active" {
                if activeSince == nil { activeSince = at }
            } else if let start = activeSince {
                intervals.append((start, at, true))
                activeSince = nil
            }
        }
        if let start = activeSince { intervals.append((start, now, false)) }
        var periods: [Period] = []
        for interval in intervals {
            var cycle = BillingCycle(containing: interval.start, createdAt: createdAt)
            while true {
                let start = max(interval.start, cycle.start)
                guard cycle.end <= interval.end else {
                    if interval.closed, start < interval.end { periods.append(Period(start: start, end: interval.end)) }
                    break
                }
                if start < cycle.end { periods.append(Period(start: start, end: cycle.end)) }
                if cycle.end == interval.end { break }
                cycle = BillingCycle(index: cycle.index + 1, createdAt: createdAt)
            }
        }
        return periods
    }

    static func invoiceViolations(
        _ organization: String, _ invoices: [JSON], expected: [Period], now: SimTime, events: [Int]
    ) -> [Violation] {
        var violations: [Violation] = []
        var ids: Set<String> = []
        var seen: [Period] = []
        for invoice in invoices {
            let id = invoice["id"]?.stringValue ?? ""
            guard let start = invoice["period_start"]?.stringValue.flatMap(SimTime.init(iso8601:)),
                let end = invoice["period_end"]?.stringValue.flatMap(SimTime.init(iso8601:))
            else { continue }
            let period = Period(start: start, end: end)
            if !ids.insert(id).inserted || seen.contains(period) {
                violations.append(
                    Violation(
                        "organization \(organization): invoice \(id) for \(period.text) is duplicated", events: events))
            }
            if let issued = invoice["issued_at"]?.stringValue.flatMap(SimTime.init(iso8601:)), issued != end {
                violations.append(
                    Violation(
                        "organization \(organization): invoice \(id) for \(period.text) was issued at \(issued.iso8601), not at its period's end",
                        events: events))
            }
            if end > now {
                violations.append(
                    Violation(
                        "organization \(organization): invoice \(id) for \(period.text) ends after the calendar's moment \(now.iso8601)",
                        events: events))
            }
            seen.append(period)
        }
        let ordered = seen.sorted()
        if ordered != seen {
            violations.append(
                Violation("organization \(organization): invoices were not issued in period order", events: events))
        }
        for (earlier, later) in zip(ordered, ordered.dropFirst()) where later.start < earlier.end && earlier != later {
            violations.append(
                Violation(
                    "organization \(organization): invoices for \(earlier.text) and \(later.text) overlap",
                    events: events))
        }
        let actual = Set(seen)
        for period in expected where !actual.contains(period) {
            violations.append(
                Violation(
                    "organization \(organization): no invoice for \(period.text), which fell due by \(now.iso8601)",
                    events: events))
        }
        for period in Set(seen).subtracting(expected).sorted() {
            violations.append(
                Violation(
                    "organization \(organization): an invoice for \(period.text), which was not due", events: events))
        }
        return violations
    }

    /// Each organization's invoices as the final observations read them.
    static func finalInvoices(_ facts: RunFacts) -> [String: (invoices: [JSON], event: Int)] {
        var result: [String: ([JSON], Int)] = [:]
        for event in facts.finalObservations {
            guard case .call("auth", "GET", let path, "support", _) = event.action, path.hasSuffix("/invoices"),
                event.outcome.status == 200, let organization = RunFacts.supportOrganization(path)
            else { continue }
            result[organization] = (event.outcome.body?["data"]?.arrayValue ?? [], event.index)
        }
        return result
    }
}
