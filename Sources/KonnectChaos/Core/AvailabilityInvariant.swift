import KonnectCore
import KonnectScenario

/// Data-plane availability (D6): through control-plane faults alone (the auth node or a geo down or
/// paused, links to them cut, slowed or lossy), every request to a data plane that is running, for a
/// path its configuration is known to route, is answered from the upstream (200 with the echo).
///
/// How "its configuration routes the path" is known: an earlier request for the same path on the same
/// data plane was answered from the upstream, and nothing that may change that configuration was
/// attempted since: a change or delete of the organization's entities or control planes, a
/// deactivation, reactivation or account deletion for it, a calendar move (inactivity, retention), or
/// the data plane's own stop. A proof survives a crash and restart of the data plane (its disk cache),
/// but only if it was made at least the cache grace before the crash: the cache is written just after a
/// configuration is applied, not before the first request it serves. Requests while the data plane or an
/// upstream is down or paused are not judged.
enum AvailabilityInvariant {
    static func check(_ facts: RunFacts, _ settings: InvariantSettings) -> CheckVerdict {
        var violations: [Violation] = []
        // Per data plane: path -> (proving event, when its answer ended).
        var proven: [String: [String: (event: Int, at: Int)]] = [:]
        var judged = 0
        let upstreams = facts.events.compactMap { event -> String? in
            if case .node("start", "upstream", let name, _) = event.action { return name }
            return nil
        }
        for event in facts.events {
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
                if answeredByUpstream(event) { proven[name, default: [:]][path] = (event.index, event.end) }
            case .fault(let kind, let target) where kind == "kill" || kind == "restart":
                // A crash keeps what was in the disk cache: proofs older than the cache grace.
                guard var paths = proven[target] else { continue }
                paths = paths.filter { $0.value.at <= event.start - settings.cacheGraceMilliseconds }
                proven[target] = paths
            case .node("stop", _, let name, _):
                proven[name] = nil
            case .call(_, let method, let path, let token, _):
                guard mayChangeConfiguration(method: method, path: path, token: token, event: event) else { continue }
                let organization = facts.organization(of: event)
                for (name, dataPlane) in facts.dataPlanes
                where organization == nil || dataPlane.organization == nil || dataPlane.organization == organization {
                    proven[name] = nil
                }
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

    /// A call that may change what a data plane serves (whatever its answer, unless it was refused).
    static func mayChangeConfiguration(method: String, path: String, token: String?, event: HistoryEvent) -> Bool {
        if case .refused = event.outcome { return false }
        if let status = event.outcome.status, !(200..<300).contains(status) { return false }
        if path.hasPrefix("/v3/simulator/clock") { return method != "GET" }
        if path.hasSuffix("/deactivate") || path.hasSuffix("/reactivate") { return method == "POST" }
        if path == "/v3/users/me" { return method == "DELETE" }
        guard path.hasPrefix("/v2/control-planes") else { return false }
        return method == "PATCH" || method == "PUT" || method == "DELETE"
    }
}
