import KonnectCore
import KonnectScenario

/// Usage exactly once (B3): the API calls billed to an organization, per billing cycle, are the calls its
/// data planes answered, no fewer and no more.
///
/// What the history can know, and what this checker assumes:
/// - A data plane counts a call once a route matched, before it forwards it: an answer from the upstream,
///   or the data plane's own 502, 504 or "no Service found" 503, is one call; "no Route matched" (404) and
///   a refusal (503 while orphaned or without configuration) are none; a request without an answer may
///   have been counted or not (0 or 1), unless the connection was refused (0).
/// - The auth node bills a call to the cycle open when it records it, which can be later than the answer
///   (a data plane or geo cut off keeps its counts). A settle that finished with every data plane and geo
///   running ("clean") proves that every call answered before it was recorded: so a call's cycle lies
///   between the cycle of its answer and the cycle at the next clean settle. Cycles that calls may share
///   are judged together, as one group.
/// - Calls recorded while the organization is not active are never billed (D3). A call is required to be
///   billed only if it was recorded (a clean settle came) before anything that may have deactivated the
///   organization: a deactivation attempt, an account deletion, or a calendar move during which its state
///   history says it became inactive. Later calls only bound the bill from above.
/// So per organization and group of cycles: required calls <= billed <= answered calls (+ calls without
/// an answer). The bill is read from the Billing and Usage view of every cycle at the final observations.
enum UsageInvariant {
    struct Call {
        var event: Int
        var definite: Bool
        var cycles: ClosedRange<Int64>
        var required: Bool
    }

    static func check(_ facts: RunFacts) -> CheckVerdict {
        var notes: [String] = []
        var violations: [Violation] = []
        guard facts.finalStart != nil else {
            return CheckVerdict(invariant: "usage", notes: ["no final observations: nothing checked"])
        }
        let billed = billedCalls(facts)
        let viewsStart = billed.values.flatMap { $0.values.map(\.event) }.min() ?? facts.events.count
        let cleanSettles = facts.events[..<viewsStart].filter {
            if case .settle(true) = $0.action { return true }
            return false
        }
        violations += undelivered(facts)
        var calls: [String: [Call]] = [:]
        var boundaries: [String: Int] = [:]
        var unattributed = 0
        for event in facts.events[..<viewsStart] {
            guard case .proxy(let name, _, _) = event.action else { continue }
            let count = count(event)
            guard count != .none else { continue }
            guard let organization = facts.dataPlanes[name]?.organization,
                let createdAt = facts.organizations[organization]?.createdAt
            else {
                unattributed += 1
                continue
            }
            // Without a clean settle after it, a call may not have arrived when the views were read: it
            // bounds the bill from above only (and `undelivered` says whether it is stuck).
            let closing = cleanSettles.first { $0.index > event.index } ?? facts.events[viewsStart - 1]
            let settled = cleanSettles.contains { $0.index > event.index }
            // The calendar only moves forward: the last moment known before the answer bounds the cycle
            // from below, the first known at or after the closing settle from above (else the last cycle read).
            let answered = calendar(facts, before: event.index).map {
                BillingCycle(containing: $0, createdAt: createdAt).index
            }
            let recorded =
                facts.events[closing.index...].first { $0.calendar != nil }?.calendar.map {
                    BillingCycle(containing: $0, createdAt: createdAt).index
                } ?? billed[organization]?.keys.max()
            let cycles = (answered ?? 0)...max(answered ?? 0, recorded ?? answered ?? 0)
            let boundary = boundaries[organization] ?? deactivationBoundary(facts, organization)
            boundaries[organization] = boundary
            calls[organization, default: []].append(
                Call(
                    event: event.index, definite: count == .one, cycles: cycles,
                    required: count == .one && settled && closing.index < boundary))
        }
        if unattributed > 0 {
            notes.append(
                "\(unattributed) proxied calls not judged (their data plane's organization is unknown)")
        }
        var judged = 0
        for (organization, perCycle) in billed.sorted(by: { $0.key < $1.key }) {
            let organizationCalls = calls[organization] ?? []
            for group in groups(cycles: Array(perCycle.keys), calls: organizationCalls) {
                judged += 1
                let inGroup = organizationCalls.filter { group.contains($0.cycles.lowerBound) }
                let required = inGroup.filter(\.required).count
                let most = inGroup.count
                var bill: Int64 = 0
                var viewEvents: [Int] = []
                var complete = true
                for cycle in group {
                    guard let view = perCycle[cycle] else {
                        complete = false
                        continue
                    }
                    bill += view.calls
                    viewEvents.append(view.event)
                }
                guard complete else {
                    notes.append(
                        "organization \(organization): cycles \(group.lowerBound)...\(group.upperBound) not all read")
                    continue
                }
                let cycles =
                    group.count == 1 ? "cycle \(group.lowerBound)" : "cycles \(group.lowerBound)-\(group.upperBound)"
                if bill > Int64(most) {
                    violations.append(
                        Violation(
                            "organization \(organization), \(cycles): \(bill) API calls billed, but its data planes answered at most \(most) (double count)",
                            events: viewEvents + inGroup.prefix(20).map(\.event)))
                } else if bill < Int64(required) {
                    violations.append(
                        Violation(
                            "organization \(organization), \(cycles): \(bill) API calls billed, but its data planes answered \(required) that had been delivered while it was active (lost usage)",
                            events: viewEvents + inGroup.filter(\.required).prefix(20).map(\.event)))
                }
            }
        }
        notes.insert("\(judged) organization cycle groups judged", at: 0)
        let missing = Set(calls.keys).subtracting(billed.keys)
        if !missing.isEmpty {
            notes.append("no usage views read for \(missing.count) organizations with calls")
        }
        return CheckVerdict(invariant: "usage", notes: notes, violations: violations)
    }

    /// Usage a data plane or geo still held after every fault was healed and the cluster settled: lost,
    /// unless it belongs to an organization that was deleted (never billed anyway).
    static func undelivered(_ facts: RunFacts) -> [Violation] {
        let views = facts.finalOrganizationViews
        return facts.finalObservations.compactMap { event -> Violation? in
            guard case .observation(let subject, "usage pending", let details) = event.action else { return nil }
            let pending = details["pending"]?.intValue ?? 0
            if let dataPlane = facts.dataPlanes[subject] {
                let organization = dataPlane.organization ?? "unknown"
                let state = views[organization]?.view["state"]?.stringValue
                guard state != "deleted" && state != "deleting" else { return nil }
                let deletions = facts.runEvents.filter { candidate in
                    guard case .call(_, "DELETE", let path, _, _) = candidate.action else { return false }
                    return path == "/v2/control-planes/\(dataPlane.controlPlane)"
                }.map(\.index)
                let why = deletions.isEmpty ? "" : ", after its control plane was deleted"
                return Violation(
                    "data plane \(subject) of organization \(organization) still holds \(pending) usage report\(pending == 1 ? "" : "s") it could not deliver after every fault was healed\(why) (lost usage)",
                    events: deletions + [event.index])
            }
            return Violation(
                "geo \(subject) still holds \(pending) usage record\(pending == 1 ? "" : "s") it could not deliver to the auth node after every fault was healed",
                events: [event.index])
        }
    }

    /// How many calls a proxied request counted for usage.
    enum Count { case none, one, maybe }

    static func count(_ event: HistoryEvent) -> Count {
        switch event.outcome {
        case .response(let status, let body):
            let message = body["message"]?.stringValue ?? ""
            if status == 404 && message == "no Route matched with those values" { return .none }
            if status == 503 && message != "no Service found with those values" { return .none }
            return .one
        case .unknown: return .maybe
        case .refused, .done: return .none
        }
    }

    /// The calendar when an event started, or the nearest known one before it.
    static func calendar(_ facts: RunFacts, before index: Int) -> SimTime? {
        facts.events[...index].last { $0.calendar != nil }?.calendar
    }

    /// The earliest event after which the organization may have stopped being active.
    static func deactivationBoundary(_ facts: RunFacts, _ organization: String) -> Int {
        var boundary = facts.events.count
        for event in facts.runEvents {
            guard case .call(_, "POST", let path, _, _) = event.action else {
                if case .call(_, "DELETE", "/v3/users/me", _, _) = event.action,
                    facts.organization(of: event) == organization, mayHaveHappened(event)
                {
                    boundary = min(boundary, event.index)
                }
                continue
            }
            if path.hasSuffix("/deactivate"), facts.organization(of: event) == organization, mayHaveHappened(event) {
                boundary = min(boundary, event.index)
            }
        }
        // Deactivations the calendar made: the move during which the state history says it happened.
        if let move = facts.movesDeactivating(organization).first { boundary = min(boundary, move) }
        return boundary
    }

    static func mayHaveHappened(_ event: HistoryEvent) -> Bool {
        switch event.outcome {
        case .response(let status, _): (200..<300).contains(status)
        case .unknown: true
        case .done, .refused: false
        }
    }

    /// API calls billed per organization and cycle, from the final Billing and Usage views.
    static func billedCalls(_ facts: RunFacts) -> [String: [Int64: (calls: Int64, event: Int)]] {
        var billed: [String: [Int64: (Int64, Int)]] = [:]
        for event in facts.finalObservations {
            guard case .call("auth", "GET", let path, "support", _) = event.action, path.contains("/billing/usage"),
                event.outcome.status == 200, let body = event.outcome.body,
                let organization = RunFacts.supportOrganization(path), let cycle = body["cycle"]?.intValue
            else { continue }
            let calls = (body["periods"]?.arrayValue ?? []).reduce(Int64(0)) {
                $0 + ($1["usage"]?["api_calls"]?.intValue ?? 0)
            }
            billed[organization, default: [:]][cycle] = (calls, event.index)
        }
        return billed
    }

    /// Cycles grouped so that no call's possible cycles span two groups.
    static func groups(cycles: [Int64], calls: [Call]) -> [ClosedRange<Int64>] {
        var ranges = cycles.map { $0...$0 } + calls.map(\.cycles)
        ranges.sort { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<Int64>] = []
        for range in ranges {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }
}
