import KonnectCore
import KonnectScenario

/// Isolation (T3): no object of another organization or another geo is ever returned. A geo's 2xx
/// answer to an organization's token never names (by `id`, or in a list's `data`) an object another
/// organization created, or one created in another geo, and never acts on one (a 2xx for its path);
/// a data plane's proxied answer never comes from another organization's service (the echoed upstream
/// path is one of its own organization's services).
///
/// Assumption: objects are attributed by their acknowledged creates; ids the history never saw created
/// (a create without an answer) are not judged.
enum IsolationInvariant {
    static func check(_ facts: RunFacts) -> CheckVerdict {
        var violations: [Violation] = []
        var answers = 0
        var proxied = 0
        for event in facts.events {
            switch event.action {
            case .call(let node, _, let path, let token, _):
                guard node != "auth", let token, let caller = facts.tokens[token],
                    let status = event.outcome.status, (200..<300).contains(status)
                else { continue }
                answers += 1
                if let target = ObjectPath.parse(path) {
                    let named = Set(
                        [target.controlPlane, target.key.map { facts.objectID(target) ?? $0 }].compactMap { $0 })
                    for id in named.sorted() {
                        if let object = facts.objects[id], let problem = foreign(object, caller.organization, node) {
                            violations.append(
                                Violation(
                                    "\(event.summary) acted for organization \(caller.organization) on \(problem)",
                                    events: [object.event, event.index]))
                        }
                    }
                }
                for id in returnedIDs(event.outcome.body) {
                    guard let object = facts.objects[id], let problem = foreign(object, caller.organization, node)
                    else { continue }
                    violations.append(
                        Violation(
                            "\(event.summary) returned to organization \(caller.organization) \(problem)",
                            events: [object.event, event.index]))
                }
            case .proxy(let name, _, _):
                guard event.outcome.status == 200, let echoed = event.outcome.body?["path"]?.stringValue,
                    let dataPlane = facts.dataPlanes[name], let owner = dataPlane.organization
                else { continue }
                proxied += 1
                let owners = facts.upstreamPaths.filter { _, prefixes in
                    prefixes.contains { echoed == $0 || echoed.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
                }.map(\.key)
                if !owners.isEmpty, !owners.contains(owner) {
                    violations.append(
                        Violation(
                            "\(event.summary): data plane \(name) of organization \(owner) answered from upstream path \(echoed) of organization \(owners.sorted().joined(separator: ", "))",
                            events: [event.index]))
                }
            default:
                continue
            }
        }
        return CheckVerdict(
            invariant: "isolation",
            notes: [
                "\(answers) geo answers and \(proxied) proxied answers checked against \(facts.objects.count) known objects"
            ],
            violations: violations)
    }

    /// What is wrong with an organization seeing this object in this geo, or nil.
    static func foreign(_ object: RunFacts.Object, _ organization: String, _ geo: String) -> String? {
        if object.organization != organization {
            return "\(object.kindName) \(object.id) of organization \(object.organization)"
        }
        if object.geo != geo { return "\(object.kindName) \(object.id) created in geo \(object.geo)" }
        return nil
    }

    /// The ids an answer names: its own `id`, and those of a list's `data` items.
    static func returnedIDs(_ body: JSON?) -> [String] {
        guard let body else { return [] }
        var ids: [String] = []
        if let id = body["id"]?.stringValue { ids.append(id) }
        for item in body["data"]?.arrayValue ?? [] {
            if let id = item["id"]?.stringValue { ids.append(id) }
        }
        return ids
    }
}
