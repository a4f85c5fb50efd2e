import KonnectCore
import KonnectScenario

/// Deactivation effects (D3-D5, D7). Once a deactivation is acknowledged (an admin's deactivate, the
/// owner's account deletion, support's deactivate), until the next reactivation attempt:
/// - no login into the organization succeeds;
/// - no token issued before it works again, ever (they stay revoked after a reactivation);
/// - every data plane of the organization answers 503 to every request made more than the bound after
///   both the deactivation and the moment its whole path to the auth node (the data plane, its geo,
///   the auth node and the two links between them) last became healthy.
/// At the final observations (after every fault is healed): every geo lists each inactive organization
/// as decommissioned and its data planes answer 503; no geo lists an active organization and its data
/// planes are not orphaned by a deactivation. A data plane whose control plane was deleted (which
/// orphans it, like a decommission) answers 503 too.
///
/// Assumption: deactivations without an answer, and those the calendar made (inactivity), have no known
/// moment, so only the final observations judge them.
enum DeactivationInvariant {
    struct Commit {
        var organization: String
        var event: HistoryEvent
    }

    static func check(_ facts: RunFacts, _ settings: InvariantSettings) -> CheckVerdict {
        var violations: [Violation] = []
        let runEnd = facts.finalStart ?? facts.events.count
        let commits = commits(facts)
        for commit in commits {
            let organization = commit.organization
            let windowEnd =
                facts.runEvents.first { event in
                    event.index > commit.event.index && isReactivationAttempt(event, of: organization)
                }?.index ?? runEnd
            for event in facts.events[(commit.event.index + 1)..<windowEnd] {
                switch event.action {
                case .call("auth", "POST", "/v3/authenticate", _, _):
                    guard event.outcome.status == 200,
                        event.outcome.body?["organization_id"]?.stringValue == organization
                    else { continue }
                    violations.append(
                        Violation(
                            "\(event.summary): a login into organization \(organization) succeeded after its deactivation was acknowledged",
                            events: [commit.event.index, event.index]))
                case .proxy(let name, _, _):
                    guard let dataPlane = facts.dataPlanes[name], dataPlane.organization == organization,
                        let status = event.outcome.status, status != 503,
                        let healthy = facts.conditions.healthySince(path(dataPlane), before: event.index)
                    else { continue }
                    let since = max(commit.event.end, healthy)
                    guard event.start > since + settings.deactivationBoundMilliseconds else { continue }
                    violations.append(
                        Violation(
                            "\(event.summary): data plane \(name) of deactivated organization \(organization) answered \(status), \(event.start - since) ms after the deactivation with a healthy path to the auth node (bound \(settings.deactivationBoundMilliseconds) ms)",
                            events: [commit.event.index, event.index]))
                default:
                    continue
                }
            }
            // Tokens issued before the deactivation never work again.
            for event in facts.events[(commit.event.index + 1)..<(facts.readsStart ?? facts.events.count)] {
                guard case .call(_, _, _, let token?, _) = event.action, let issued = facts.tokens[token],
                    issued.organization == organization, issued.event < commit.event.index, event.outcome.isSuccess
                else { continue }
                violations.append(
                    Violation(
                        "\(event.summary): a token of organization \(organization) issued before its deactivation still works",
                        events: [issued.event, commit.event.index, event.index]))
            }
        }
        var notes = ["\(commits.count) acknowledged deactivations followed"]
        if facts.finalStart != nil {
            violations += finalViolations(facts, notes: &notes)
        } else {
            notes.append("no final observations: the state at the end was not checked")
        }
        return CheckVerdict(invariant: "deactivation", notes: notes, violations: violations)
    }

    /// The nodes and links between a data plane and the auth node.
    static func path(_ dataPlane: RunFacts.DataPlane) -> [String] {
        [
            dataPlane.name, dataPlane.geo, "auth", LinkFault.linkName(from: dataPlane.name, to: dataPlane.geo),
            LinkFault.linkName(from: dataPlane.geo, to: "auth"),
        ]
    }

    /// Acknowledged deactivations, in order.
    static func commits(_ facts: RunFacts) -> [Commit] {
        facts.runEvents.compactMap { event -> Commit? in
            guard case .call("auth", let method, let path, let token, _) = event.action else { return nil }
            switch (method, path, event.outcome.status) {
            case ("POST", "/v3/organizations/me/deactivate", 200):
                return token.flatMap { facts.tokens[$0] }.map { Commit(organization: $0.organization, event: event) }
            case ("DELETE", "/v3/users/me", 204):
                guard let issued = token.flatMap({ facts.tokens[$0] }),
                    facts.organizations[issued.organization]?.ownerID == issued.user
                else { return nil }
                return Commit(organization: issued.organization, event: event)
            case ("POST", _, 200) where token == "support" && path.hasSuffix("/deactivate"):
                return RunFacts.supportOrganization(path).map { Commit(organization: $0, event: event) }
            default:
                return nil
            }
        }
    }

    /// A reactivation that may have happened: acknowledged, or without an answer.
    static func isReactivationAttempt(_ event: HistoryEvent, of organization: String) -> Bool {
        guard case .call("auth", "POST", let path, "support", _) = event.action,
            path == "/v3/support/organizations/\(organization)/reactivate"
        else { return false }
        switch event.outcome {
        case .response(let status, _): return (200..<300).contains(status)
        case .unknown: return true
        case .done, .refused: return false
        }
    }

    /// The state after every fault was healed: geos and data planes agree with each organization's state.
    static func finalViolations(_ facts: RunFacts, notes: inout [String]) -> [Violation] {
        var violations: [Violation] = []
        let geos = facts.finalGeoStatus
        if geos.isEmpty { notes.append("no geo status in the final observations") }
        for dataPlane in facts.dataPlanes.values.sorted(by: { $0.name < $1.name }) {
            guard
                let deletion = facts.runEvents.first(where: { event in
                    guard case .call(_, "DELETE", let path, _, _) = event.action else { return false }
                    return path == "/v2/control-planes/\(dataPlane.controlPlane)" && event.outcome.isSuccess
                }),
                let probe = facts.finalObservations.last(where: { isProxy($0, to: dataPlane.name) }),
                let status = probe.outcome.status, status != 503
            else { continue }
            violations.append(
                Violation(
                    "data plane \(dataPlane.name) still answers \(status) after every fault was healed, but its control plane was deleted",
                    events: [deletion.index, probe.index]))
        }
        for (organization, view) in facts.finalOrganizationViews.sorted(by: { $0.key < $1.key }) {
            let state = view.view["state"]?.stringValue ?? ""
            guard state == "inactive" || state == "active" else { continue }
            for (geo, status) in geos.sorted(by: { $0.key < $1.key }) {
                let listed = (status.status["decommissioned_organizations"]?.arrayValue ?? []).contains(
                    .string(organization))
                if state == "inactive" && !listed {
                    violations.append(
                        Violation(
                            "organization \(organization) is inactive, but geo \(geo) never decommissioned it",
                            events: [view.event, status.event]))
                } else if state == "active" && listed {
                    violations.append(
                        Violation(
                            "organization \(organization) is active, but geo \(geo) still has it decommissioned",
                            events: [view.event, status.event]))
                }
            }
            for dataPlane in facts.dataPlanes.values.sorted(by: { $0.name < $1.name })
            where dataPlane.organization == organization {
                guard let probe = facts.finalObservations.last(where: { isProxy($0, to: dataPlane.name) }),
                    let status = probe.outcome.status
                else { continue }
                if state == "inactive" && status != 503 {
                    violations.append(
                        Violation(
                            "data plane \(dataPlane.name) of inactive organization \(organization) still answers \(status) after every fault was healed",
                            events: [view.event, probe.index]))
                }
                let orphanedByDeactivation =
                    probe.outcome.body?["data_plane_state"]?.stringValue == "orphaned"
                    && (probe.outcome.body?["reason"]?.stringValue ?? "").contains("organization deactivated")
                if state == "active" && orphanedByDeactivation {
                    violations.append(
                        Violation(
                            "data plane \(dataPlane.name) of active organization \(organization) is still orphaned by a deactivation",
                            events: [view.event, probe.index]))
                }
            }
        }
        return violations
    }

    static func isProxy(_ event: HistoryEvent, to name: String) -> Bool {
        if case .proxy(name, _, _) = event.action { return true }
        return false
    }
}
