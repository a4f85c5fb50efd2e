import KonnectCore
import KonnectScenario

/// Data-plane availability (D6): through control-plane faults alone (the auth node or a geo down or
/// paused, links to them cut, slowed or lossy), every request to a data plane that is running, for a
/// path its configuration is known to route, is answered from the upstream (200 with the echo).
///
/// How "its configuration routes the path" is known: an earlier request for the same path on the same
/// data plane was answered from the upstream, and nothing that may stop it since: a change or delete of
/// the organization's entities or control planes, a deactivation, reactivation or account deletion for
/// it, or a calendar move during which its state history says it stopped being active (each "attempted",
/// with an answer or without). Such a change reaches a data plane later, so a request served after one
/// proves nothing until the bound has passed since both the change and the moment the data plane's path
/// to the auth node last became healthy (it has the change by then). A proof survives a crash and restart
/// of the data plane (its disk cache), but only if it was made at least the cache grace before the crash:
/// the cache is written just after a configuration is applied. Requests while the data plane or an
/// upstream is down or paused are not judged.
enum AvailabilityInvariant {
    static func check(_ facts: RunFacts, _ settings: InvariantSettings) -> CheckVerdict {
        var violations: [Violation] = []
        // Per data plane: path -> (proving event, when its answer ended).
        var proven: [String: [String: (event: Int, at: Int)]] = [:]
        // Per organization: when the last change that may stop its data planes serving ended.
        var changed: [String: Int] = [:]
        var judged = 0
        let upstreams = facts.events.compactMap { event -> String? in
            if case .node("start", "upstream", let name, _) = event.action { return name }
            return nil
        }
        var calendarChanges: [Int: [String]] = [:]
        for organization in facts.organizations.keys {
            for move in facts.movesDeactivating(organization) {
                calendarChanges[move, default: []].append(organization)
            }
        }
        func change(_ organization: String?, _ event: HistoryEvent) {
            for (name, dataPlane) in facts.dataPlanes
            where organization == nil || dataPlane.organization == nil || dataPlane.organization == organization {
                proven[name] = nil
            }
            for key in organization.map({ [$0] }) ?? Array(facts.organizations.keys) { changed[key] = event.end }
        }
        for event in facts.runEvents {
            switch event.action {
            case .proxy(let name, _, let path):
                guard let dataPlane = facts.dataPlanes[name] else { continue }
                let running = ([name] + upstreams).allSatisfy {
                    facts.conditions.state($0, before: event.index) == .up
                }
                if let proof = proven[name]?[path], running {
                    judged += 1
                    if !answeredByUpstream(event) {
                        violations.append(
                            Violation(
                                "\(event.summary): data plane \(name) (geo \(dataPlane.geo)) is running and its configuration routes \(path) (served at #\(proof.event)), but it did not answer from the upstream",
                                events: [proof.event, event.index]))
                    }
                }
                guard answeredByUpstream(event) else { continue }
                if let organization = dataPlane.organization, let since = changed[organization] {
                    guard
                        let healthy = facts.conditions.healthySince(
                            DeactivationInvariant.path(dataPlane), before: event.index),
                        event.start > max(since, healthy) + settings.deactivationBoundMilliseconds
                    else { continue }
                }
                proven[name, default: [:]][path] = (event.index, event.end)
            case .fault(let kind, let target) where kind == "kill" || kind == "restart":
                // A crash keeps what was in the disk cache: proofs older than the cache grace.
                guard var paths = proven[target] else { continue }
                paths = paths.filter { $0.value.at <= event.start - settings.cacheGraceMilliseconds }
                proven[target] = paths
            case .node("stop", _, let name, _):
                proven[name] = nil
            case .call(_, let method, let path, let token, _):
                if let organizations = calendarChanges[event.index] {
                    for organization in organizations { change(organization, event) }
                }
                guard mayChangeConfiguration(method: method, path: path, token: token, event: event) else { continue }
                change(facts.organization(of: event), event)
            default:
                continue
            }
        }
        return CheckVerdict(
            invariant: "availability",
            notes: ["\(judged) proxied requests judged (running data plane, path proven routed)"],
            violations: violations)
    }

    static func answeredByUpstream(_ event: HistoryEvent) -> Bool {
        event.outcome.status == 200 && event.outcome.body?["path"]?.stringValue != nil
    }

    /// A call that may stop a data plane serving what it served (whatever its answer, unless it was
    /// refused): a change of the organization's entities or control planes, its deactivation,
    /// reactivation or account deletion. (Calendar moves count through the state history instead.)
    static func mayChangeConfiguration(method: String, path: String, token: String?, event: HistoryEvent) -> Bool {
        if case .refused = event.outcome { return false }
        if let status = event.outcome.status, !(200..<300).contains(status) { return false }
        if path.hasSuffix("/deactivate") || path.hasSuffix("/reactivate") { return method == "POST" }
        if path == "/v3/users/me" { return method == "DELETE" }
        guard path.hasPrefix("/v2/control-planes") else { return false }
        return method == "PATCH" || method == "PUT" || method == "DELETE"
    }
}
