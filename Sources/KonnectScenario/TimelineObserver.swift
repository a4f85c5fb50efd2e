import KonnectCluster

/// Turns successive snapshots of a cluster into the timeline's lane changes: a node's process (up,
/// down, paused), a data plane's or zone's sync state (with the version it runs), a link's condition.
/// Pure: the scenario runner and the console feed it snapshots and a time.
public struct TimelineObserver: Sendable {
    /// The state last noted per lane, so a lane changes only when its state does, also across a
    /// snapshot where it was not seen (a data plane that was down reports no sync state).
    private var noted: [String: String] = [:]

    public init() {}

    public mutating func observe(_ snapshot: ClusterSnapshot, at: Int) -> [TimelineEvent] {
        var events: [TimelineEvent] = []
        func note(_ kind: TimelineEvent.Kind, _ subject: String, _ state: String, _ detail: String) {
            let key = "\(kind.rawValue):\(subject)"
            guard noted[key] != state else { return }
            noted[key] = state
            events.append(TimelineEvent(at: at, kind: kind, subject: subject, state: state, detail: detail))
        }
        for node in snapshot.nodes {
            note(.node, node.name, node.process == .running ? "up" : node.process.rawValue, "")
            if node.process == .running, let sync = node.sync {
                note(.sync, node.name, sync.state, sync.version.map { "version \($0)" } ?? "")
            }
        }
        for link in snapshot.links { note(.link, link.name, link.fault.condition.rawValue, "") }
        return events
    }
}
