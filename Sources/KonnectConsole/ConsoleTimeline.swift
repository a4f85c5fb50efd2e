import KonnectCluster
import KonnectCore
import KonnectScenario

/// The console's timeline: successive states turned into events stamped with wall-clock milliseconds.
/// Lanes come from the scenario report's `TimelineObserver` (node up/down/paused, data-plane and zone
/// sync, link condition); markers are the fault log's entries, calendar moves, organizations' state
/// changes and configuration versions a data plane or zone applied. Pure: states and times in.
public struct ConsoleTimeline: Sendable {
    public private(set) var events: [TimelineEvent] = []
    /// When the console first observed the cluster: lanes start there.
    public private(set) var start: Int?
    private var observer = TimelineObserver()
    private var previous: ConsoleState?
    private var faultsSeen = 0
    /// The oldest events are forgotten beyond this many.
    public static let limit = 2000

    public init() {}

    public mutating func observe(_ state: ConsoleState, at now: Int) {
        if start == nil { start = now }
        var new = observer.observe(state.cluster, at: now)
        if state.faultLog.count < faultsSeen { faultsSeen = 0 }
        for entry in state.faultLog.dropFirst(faultsSeen) {
            let at = entry.wallMilliseconds ?? now
            new.append(
                TimelineEvent(at: at, kind: .fault, subject: entry.subject, state: entry.fault, detail: entry.text))
        }
        faultsSeen = state.faultLog.count
        if let previous {
            new += ConsoleTimeline.changes(from: previous, to: state, at: now)
        }
        // What the auth node said last stays the reference while it does not answer (down, paused), so
        // a change made meanwhile shows once it answers again.
        var reference = state
        reference.calendar = state.calendar ?? previous?.calendar
        reference.organizations = state.organizations ?? previous?.organizations
        previous = reference
        events = ConsoleTimeline.stableSorted(events + new)
        if events.count > ConsoleTimeline.limit { events.removeFirst(events.count - ConsoleTimeline.limit) }
    }

    /// Markers between two states: the calendar moved, an organization appeared or changed state, a data
    /// plane or zone applied another configuration version, a control plane's version moved.
    static func changes(from old: ConsoleState, to new: ConsoleState, at: Int) -> [TimelineEvent] {
        var events: [TimelineEvent] = []
        if let before = old.calendar, let after = new.calendar, before != after {
            events.append(
                TimelineEvent(
                    at: at, kind: .calendar, subject: "calendar", state: after.iso8601,
                    detail: "calendar \(before.iso8601) -> \(after.iso8601)"))
        }
        for node in new.cluster.nodes {
            guard let sync = node.sync, let version = sync.version,
                let before = old.cluster.node(node.name)?.sync?.version, before != version
            else { continue }
            let what = node.kind == .zone ? "policies" : "configuration"
            events.append(
                TimelineEvent(
                    at: at, kind: .config, subject: node.name, state: "v\(version)",
                    detail:
                        "\(node.name) applied \(what) v\(version) (hash \(sync.hash.map { String($0.prefix(8)) } ?? "-"))"
                ))
        }
        if let organizations = new.organizations, let earlier = old.organizations {
            for organization in organizations {
                guard let before = earlier.first(where: { $0.id == organization.id }) else {
                    events.append(
                        TimelineEvent(
                            at: at, kind: .lifecycle, subject: organization.name, state: organization.state,
                            detail:
                                "\(organization.name) created (\(organization.plan), home geo \(organization.homeGeo ?? "-"))"
                        ))
                    continue
                }
                if before.state != organization.state {
                    let reason = organization.history.last.map { " (\($0.reason), by \($0.actor))" } ?? ""
                    events.append(
                        TimelineEvent(
                            at: at, kind: .lifecycle, subject: organization.name, state: organization.state,
                            detail: "\(organization.name): \(before.state) -> \(organization.state)\(reason)"))
                }
                for (geo, objects) in organization.objects.sorted(by: { $0.key < $1.key }) {
                    for controlPlane in objects.controlPlanes {
                        let version = controlPlane.configVersion
                        guard
                            let was = before.objects[geo]?.controlPlanes.first(where: { $0.id == controlPlane.id })?
                                .configVersion, was != version
                        else { continue }
                        events.append(
                            TimelineEvent(
                                at: at, kind: .config, subject: controlPlane.name, state: "v\(version)",
                                detail:
                                    "control plane \(controlPlane.name) (\(organization.name), \(geo)) pushed configuration v\(version)"
                            ))
                    }
                }
            }
        }
        return events
    }

    /// Sorted by time, keeping the order of events at the same time (lanes stay in cluster order).
    static func stableSorted(_ events: [TimelineEvent]) -> [TimelineEvent] {
        events.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
    }

    /// The events of the last `window` milliseconds before `now`, shifted to start at 0: each lane's
    /// state at the window's start, then what changed, and the markers (at most `markers`, the latest).
    public func window(now: Int, milliseconds window: Int, markers limit: Int = 60) -> (
        events: [TimelineEvent], start: Int
    ) {
        let from = max(start ?? now, now - window)
        var result: [TimelineEvent] = []
        var lanes: [String: TimelineEvent] = [:]
        var laneOrder: [String] = []
        var markers: [TimelineEvent] = []
        for event in events where event.at <= now {
            let isLane = event.kind == .node || event.kind == .sync || event.kind == .link
            if isLane {
                let key = "\(event.kind.rawValue):\(event.subject)"
                if event.at <= from {
                    if lanes[key] == nil { laneOrder.append(key) }
                    lanes[key] = event
                } else {
                    result.append(event)
                }
            } else if event.at >= from {
                markers.append(event)
            }
        }
        let opening = laneOrder.compactMap { lanes[$0] }.map { event -> TimelineEvent in
            var moved = event
            moved.at = from
            return moved
        }
        let shifted = ConsoleTimeline.stableSorted(opening + result + markers.suffix(limit)).map {
            event -> TimelineEvent in
            var moved = event
            moved.at = event.at - from
            return moved
        }
        return (shifted, from)
    }
}
