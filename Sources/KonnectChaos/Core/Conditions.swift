import KonnectScenario

/// Which node and link states were in force at each point of the run, from the fault and node events
/// (a fault is in force from the end of the step that injected it to the end of the step that
/// repaired it).
///
/// A node's host may also be isolated (`isolate` / `rejoin`, `--topology netns`): whatever the node's own
/// state, nothing reaches it and nothing it sends arrives. So while its host is isolated a running node
/// is `isolated`, and so is every link touching it (as good as a partition, both ways); it is healthy
/// again from the rejoin on.
public struct Conditions {
    public enum State: String, Sendable {
        case up, down, paused
        case healthy, partitioned, dropping, slowed
        /// The node's host, or a host at either end of the link, is off the network.
        case isolated
    }

    struct Transition {
        var index: Int
        var at: Int
        var state: State
    }

    private var transitions: [String: [Transition]] = [:]
    /// Per node, its host's transitions: `isolated`, or `up` once rejoined.
    private var hosts: [String: [Transition]] = [:]
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
                case "isolate" where worked: noteHost(target, .isolated, event)
                // A rejoin that failed leaves the host as it was: isolated, if it was.
                case "rejoin" where worked: noteHost(target, .up, event)
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

    private mutating func noteHost(_ node: String, _ state: State, _ event: HistoryEvent) {
        hosts[node, default: []].append(Transition(index: event.index, at: event.end, state: state))
    }

    /// The nodes a subject needs on the network: a node itself, or both ends of a link.
    private func hostsOf(_ subject: String) -> [String] {
        guard let arrow = subject.range(of: "->") else { return [subject] }
        return [String(subject[..<arrow.lowerBound]), String(subject[arrow.upperBound...])]
    }

    /// The state of a node or link when event `index` started. Nodes the history never mentions are
    /// the cluster's own (auth and geos), up from the start; links are healthy until a fault. A node that
    /// is down or paused is that, isolated or not; otherwise an isolated host makes it (and every link
    /// touching it) `isolated`.
    public func state(_ subject: String, before index: Int) -> State {
        let own =
            transitions[subject]?.last(where: { $0.index < index })?.state ?? (subject.contains("->") ? .healthy : .up)
        guard own != .down, own != .paused, own != .partitioned else { return own }
        return hostsOf(subject).contains { isIsolated($0, before: index) } ? .isolated : own
    }

    /// Whether a node's host was off the network when event `index` started.
    public func isIsolated(_ node: String, before index: Int) -> Bool {
        hosts[node]?.last(where: { $0.index < index })?.state == .isolated
    }

    /// When the last of these subjects became healthy (up, or a link without a fault other than latency,
    /// every host it needs on the network) before event `index`; nil while any of them is not.
    public func healthySince(_ subjects: [String], before index: Int) -> Int? {
        var since = 0
        for subject in subjects {
            let state = state(subject, before: index)
            guard state == .up || state == .healthy || state == .slowed else { return nil }
            if let last = transitions[subject]?.last(where: { $0.index < index }) { since = max(since, last.at) }
            for host in hostsOf(subject) {
                if let rejoined = hosts[host]?.last(where: { $0.index < index }) { since = max(since, rejoined.at) }
            }
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
