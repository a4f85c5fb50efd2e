import KonnectScenario

/// Which node and link states were in force at each point of the run, from the fault and node events
/// (a fault is in force from the end of the step that injected it to the end of the step that
/// repaired it).
public struct Conditions {
    public enum State: String, Sendable {
        case up, down, paused
        case healthy, partitioned, dropping, slowed
    }

    struct Transition {
        var index: Int
        var at: Int
        var state: State
    }

    private var transitions: [String: [Transition]] = [:]
    private var links: Set<String> = []

    init(_ events: [HistoryEvent]) {
        for event in events {
            let worked = event.outcome == .done
            switch event.action {
            case .fault(let kind, let target):
                switch kind {
                case "kill" where worked: note(target, .down, event)
                case "restart": note(target, worked ? .up : .down, event)
                case "pause" where worked: note(target, .paused, event)
                case "resume" where worked: note(target, .up, event)
                case "partition" where worked: noteLink(target, .partitioned, event)
                case "drop" where worked: noteLink(target, .dropping, event)
                case "latency" where worked: noteLink(target, .slowed, event)
                case "heal" where worked:
                    if target == "*" {
                        for link in links { note(link, .healthy, event) }
                    } else {
                        noteLink(target, .healthy, event)
                    }
                default: break
                }
            case .node("start", _, let name, _):
                // Before its first start, a data plane or upstream does not exist: down.
                if transitions[name] == nil { transitions[name] = [Transition(index: -1, at: 0, state: .down)] }
                note(name, worked ? .up : .down, event)
            case .node("stop", _, let name, _):
                note(name, .down, event)
            default:
                break
            }
        }
    }

    private mutating func note(_ subject: String, _ state: State, _ event: HistoryEvent) {
        transitions[subject, default: []].append(Transition(index: event.index, at: event.end, state: state))
    }

    private mutating func noteLink(_ link: String, _ state: State, _ event: HistoryEvent) {
        links.insert(link)
        note(link, state, event)
    }

    /// The state of a node or link when event `index` started. Nodes the history never mentions are
    /// the cluster's own (auth and geos), up from the start; links are healthy until a fault.
    public func state(_ subject: String, before index: Int) -> State {
        if let last = transitions[subject]?.last(where: { $0.index < index }) { return last.state }
        return subject.contains("->") ? .healthy : .up
    }

    /// When the last of these subjects became healthy (up, or a link without a fault other than latency)
    /// before event `index`; nil while any of them is not.
    public func healthySince(_ subjects: [String], before index: Int) -> Int? {
        var since = 0
        for subject in subjects {
            let state = state(subject, before: index)
            guard state == .up || state == .healthy || state == .slowed else { return nil }
            if let last = transitions[subject]?.last(where: { $0.index < index }) { since = max(since, last.at) }
        }
        return since
    }

    /// Whether the subject had a transition between two events (exclusive).
    public func changed(_ subject: String, after start: Int, before end: Int) -> [Int] {
        (transitions[subject] ?? []).filter { $0.index > start && $0.index < end }.map(\.at)
    }

    /// Every subject the history mentions.
    public var subjects: [String] { Array(transitions.keys) }
}
