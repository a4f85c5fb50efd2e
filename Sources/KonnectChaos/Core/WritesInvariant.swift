import KonnectCore
import KonnectScenario

/// No acknowledged write lost: every object whose create was answered 2xx is still there when the
/// `check` step reads it back, with the values of its last acknowledged update, unless it (or its
/// control plane, or its organization) may have been deleted since.
///
/// Assumptions: an answer other than 2xx means nothing was written; a request without an answer may or
/// may not have been applied, so its value is also accepted, and a delete without an answer exempts the
/// object. The expected values are what the last acknowledged write's answer said (so server defaults
/// count), for the fields some write named and the read shows (Kong splits a service's `url` into
/// parts, for example). Objects the reads could not observe (no login, 503) are listed in the notes, not
/// counted as lost.
enum WritesInvariant {
    static func check(_ facts: RunFacts) -> CheckVerdict {
        guard let readsStart = facts.readsStart else {
            return CheckVerdict(invariant: "writes", notes: ["no final reads in the history: nothing checked"])
        }
        var notes: [String] = []
        var violations: [Violation] = []
        let deleted = organizationsDeleted(facts)
        var unobserved = 0
        var checked = 0
        for object in facts.objects.values.sorted(by: { $0.event < $1.event }) {
            guard !deleted.contains(object.organization) else { continue }
            var exempt = false
            // Possible values of each field: what the last acknowledged write's answer said (the server's
            // defaults included), plus the values of later writes without an answer.
            var possible: [String: [JSON]] = [:]
            var written: Set<String> = []
            var writes: [Int] = [object.event]
            let create = facts.events[object.event]
            if case .object(let fields)? = create.outcome.body {
                for (key, value) in fields { possible[key] = [value] }
            }
            if case .call(_, _, _, _, .object(let fields)?) = create.action { written.formUnion(fields.keys) }
            for event in facts.events[(object.event + 1)..<readsStart] {
                guard case .call(let node, let method, let path, _, let body) = event.action, node == object.geo,
                    let target = ObjectPath.parse(path), target.key != nil
                else { continue }
                let applied = event.outcome.isSuccess
                let maybe = applied || isUnknown(event.outcome)
                if !maybe {
                    // A refused write must have changed nothing: its fields are compared too.
                    if target.kind == object.kind, facts.objectID(target) == object.id, case .object(let fields)? = body
                    {
                        written.formUnion(fields.keys)
                    }
                    continue
                }
                // Deleting the object's control plane deletes the object.
                if method == "DELETE", target.kind == .controlPlane, facts.objectID(target) == object.controlPlane {
                    exempt = true
                    break
                }
                guard target.kind == object.kind, facts.objectID(target) == object.id else { continue }
                if method == "DELETE" {
                    exempt = true
                    break
                }
                guard method == "PATCH" || method == "PUT", case .object(let fields)? = body else { continue }
                writes.append(event.index)
                written.formUnion(fields.keys)
                if applied, case .object(let answer)? = event.outcome.body {
                    for (key, value) in answer { possible[key] = [value] }
                } else {
                    for (key, value) in fields { possible[key, default: []].append(value) }
                }
            }
            if exempt { continue }
            guard let read = facts.reads.last(where: { isRead($0, of: object) }) else {
                unobserved += 1
                continue
            }
            switch read.outcome.status {
            case 200:
                checked += 1
                guard let body = read.outcome.body else { continue }
                for field in written.sorted() {
                    guard let seen = body[field], let values = possible[field], !values.contains(seen) else { continue }
                    violations.append(
                        Violation(
                            "\(object.kindName) \(object.id) in \(object.geo): field \(field) reads \(seen.text.prefix(80)), but after the acknowledged writes (and those without an answer) it can only be \(values.map { String($0.text.prefix(80)) }.joined(separator: " or "))",
                            events: writes + [read.index]))
                }
            case 404:
                checked += 1
                violations.append(
                    Violation(
                        "\(object.kindName) \(object.id) of organization \(object.organization) in \(object.geo) was acknowledged (201) but is gone",
                        events: writes + [read.index]))
            default:
                unobserved += 1
            }
        }
        notes.append("\(checked) acknowledged objects read back")
        if unobserved > 0 { notes.append("\(unobserved) objects could not be read back (no token or no answer)") }
        if !deleted.isEmpty { notes.append("objects of \(deleted.count) deleted organizations not checked") }
        return CheckVerdict(invariant: "writes", notes: notes, violations: violations)
    }

    static func isUnknown(_ outcome: HistoryOutcome) -> Bool {
        if case .unknown = outcome { return true }
        return false
    }

    static func isRead(_ event: HistoryEvent, of object: RunFacts.Object) -> Bool {
        guard case .call(let node, "GET", let path, _, _) = event.action else { return false }
        return node == object.geo && path == object.path
    }

    /// Organizations whose objects were purged (retention elapsed): state deleting or deleted at the end.
    static func organizationsDeleted(_ facts: RunFacts) -> Set<String> {
        Set(
            facts.finalOrganizationViews.compactMap { id, view in
                let state = view.view["state"]?.stringValue
                return state == "deleting" || state == "deleted" ? id : nil
            })
    }
}
