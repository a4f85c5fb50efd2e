import KonnectCluster
import KonnectCore
import KonnectScenario

/// What the page draws, computed from a `ConsoleState` by pure functions: the topology with its
/// layout and colours, the controls each node and link offers, the calendar and its last move, and
/// each organization's objects by geo. Tested without a browser; `ConsolePage` only turns it into HTML.
public struct ConsoleView: Sendable, Equatable {
    public var topology: TopologyView
    public var nodes: [NodeControls]
    public var links: [LinkControls]
    public var calendar: CalendarView
    public var organizations: OrganizationsView

    public init(state: ConsoleState, lastMove: CalendarMove? = nil) {
        topology = TopologyView(state.cluster, geos: state.geos)
        nodes = state.cluster.nodes.map(NodeControls.init)
        links = state.cluster.links.map(LinkControls.init)
        calendar = CalendarView(state: state, lastMove: lastMove)
        organizations = OrganizationsView(state: state)
    }
}

// MARK: - Topology

/// The cluster drawn as boxes and links: the auth node on top, each geo in its own column, the data
/// planes and zones of a geo under it, upstreams at the bottom.
public struct TopologyView: Sendable, Equatable {
    public struct Box: Sendable, Equatable {
        public var name: String
        public var kind: NodeKind
        /// up, down, paused, unresponsive.
        public var state: String
        public var x: Int
        public var y: Int
        public var width: Int
        public var height: Int
        /// The line under the name (`geo · up`).
        public var caption: String
        /// Data planes and zones: synced, disconnected or orphaned (nil while they do not answer).
        public var sync: String?
        /// `v3 · 1a2b3c4d` (configuration or policies version and hash prefix).
        public var version: String?
        public var syncVersion: Int64?
        public var orphanedReason: String?

        public var color: String { TimelineChart.color(state) }
        public var syncColor: String? { sync.map(TimelineChart.color) }
        public var centerX: Int { x + width / 2 }
    }

    public struct Edge: Sendable, Equatable {
        public var link: String
        public var from: String
        public var to: String
        public var condition: LinkCondition
        /// The faults in force (`latency 300ms+0ms`), empty when healthy.
        public var label: String
        public var x1: Int
        public var y1: Int
        public var x2: Int
        public var y2: Int

        public var color: String { TimelineChart.color(condition.rawValue) }
    }

    public var width: Int
    public var height: Int
    public var boxes: [Box]
    public var edges: [Edge]

    static let hubSize = (width: 150, height: 46)
    static let edgeSize = (width: 128, height: 72)
    static let upstreamSize = (width: 116, height: 40)
    static let rows = (auth: 16, geos: 116, edge: 226, upstreams: 346)
    static let slot = 140

    public init(_ snapshot: ClusterSnapshot, geos configured: [String]) {
        var columns = configured
        for node in snapshot.nodes {
            for geo in [node.kind == .geo ? node.name : nil, node.geo].compactMap({ $0 }) where !columns.contains(geo) {
                columns.append(geo)
            }
        }
        let edgeNodes = snapshot.nodes.filter { $0.kind == .dataPlane || $0.kind == .zone }
        let upstreams = snapshot.nodes.filter { $0.kind == .upstream }
        let widths = columns.map { geo in max(190, edgeNodes.filter { $0.geo == geo }.count * TopologyView.slot) }
        width = max(640, 40 + widths.reduce(0, +), 40 + upstreams.count * TopologyView.slot)
        height =
            (upstreams.isEmpty
                ? (edgeNodes.isEmpty ? TopologyView.rows.edge : TopologyView.rows.upstreams)
                : TopologyView.rows.upstreams + TopologyView.upstreamSize.height + 20)
        var boxes: [Box] = []
        func box(_ node: ClusterSnapshot.Node, centerX: Int, y: Int, size: (width: Int, height: Int)) -> Box {
            var caption = "\(node.kind.role) · \(node.state)"
            if node.kind == .auth { caption = "identity, billing, calendar · \(node.state)" }
            let version = node.sync.map { sync in
                let prefix = node.kind == .zone ? "policies v" : "v"
                return
                    "\(prefix)\(sync.version.map(String.init) ?? "-") · \(sync.hash.map { String($0.prefix(8)) } ?? "no hash")"
            }
            return Box(
                name: node.name, kind: node.kind, state: node.state, x: centerX - size.width / 2, y: y,
                width: size.width, height: size.height, caption: caption, sync: node.sync?.state, version: version,
                syncVersion: node.sync?.version, orphanedReason: node.sync?.orphanedReason)
        }
        if let auth = snapshot.nodes.first(where: { $0.kind == .auth }) {
            boxes.append(box(auth, centerX: width / 2, y: TopologyView.rows.auth, size: TopologyView.hubSize))
        }
        // The geo columns are centred as a block.
        var left = (width - widths.reduce(0, +)) / 2
        for (index, geo) in columns.enumerated() {
            let columnWidth = widths[index]
            if let node = snapshot.nodes.first(where: { $0.kind == .geo && $0.name == geo }) {
                boxes.append(
                    box(node, centerX: left + columnWidth / 2, y: TopologyView.rows.geos, size: TopologyView.hubSize))
            }
            let children = edgeNodes.filter { $0.geo == geo }
            for (position, child) in children.enumerated() {
                let slotWidth = columnWidth / max(1, children.count)
                boxes.append(
                    box(
                        child, centerX: left + slotWidth * position + slotWidth / 2, y: TopologyView.rows.edge,
                        size: TopologyView.edgeSize))
            }
            left += columnWidth
        }
        let upstreamLeft = (width - upstreams.count * TopologyView.slot) / 2
        for (position, upstream) in upstreams.enumerated() {
            boxes.append(
                box(
                    upstream, centerX: upstreamLeft + TopologyView.slot * position + TopologyView.slot / 2,
                    y: TopologyView.rows.upstreams, size: TopologyView.upstreamSize))
        }
        self.boxes = boxes
        edges = snapshot.links.compactMap { link in
            guard let from = boxes.first(where: { $0.name == link.from }),
                let to = boxes.first(where: { $0.name == link.to })
            else { return nil }
            return Edge(
                link: link.name, from: link.from, to: link.to, condition: link.fault.condition,
                label: link.fault.isNone ? "" : link.fault.summary, x1: from.centerX, y1: from.y, x2: to.centerX,
                y2: to.y + to.height)
        }
    }

    public func box(_ name: String) -> Box? { boxes.first { $0.name == name } }
    public func edge(_ link: String) -> Edge? { edges.first { $0.link == link } }
}

// MARK: - Faults

/// A node's row in the faults panel: which of kill, restart, pause and resume apply now.
public struct NodeControls: Sendable, Equatable {
    public var name: String
    public var role: String
    public var state: String
    public var canKill: Bool
    public var canPause: Bool
    public var canResume: Bool

    public init(_ node: ClusterSnapshot.Node) {
        name = node.name
        role = node.kind.role
        state = node.state
        canKill = node.process != .down
        canPause = node.process == .running
        canResume = node.process == .paused
    }

    public var color: String { TimelineChart.color(state) }
}

/// A link's row in the faults panel.
public struct LinkControls: Sendable, Equatable {
    public var link: String
    public var condition: LinkCondition
    public var summary: String

    public init(_ link: ClusterSnapshot.Link) {
        self.link = link.name
        condition = link.fault.condition
        summary = link.fault.summary
    }

    public var color: String { TimelineChart.color(condition.rawValue) }
}

// MARK: - Calendar

/// A calendar move the console made or saw: where it went from and to, and, when the console made
/// it, the auth node's report of what fell due (`by_kind`).
public struct CalendarMove: Sendable, Equatable {
    public var from: SimTime
    public var to: SimTime
    public var report: JSON?

    public init(from: SimTime, to: SimTime, report: JSON? = nil) {
        self.from = from
        self.to = to
        self.report = report
    }
}

public struct CalendarView: Sendable, Equatable {
    public struct Move: Sendable, Equatable {
        public var from: String
        public var to: String
        /// Whether the console made it (otherwise another client, such as the CLI, did).
        public var madeHere: Bool
        /// Due events by kind, when the console made the move.
        public var due: [(kind: String, count: Int)]
        /// Invoices issued during the move.
        public var invoices: [String]
        /// Organizations' state changes during the move (deactivations, deletions).
        public var changes: [String]

        public static func == (left: Move, right: Move) -> Bool {
            left.from == right.from && left.to == right.to && left.madeHere == right.madeHere
                && left.due.map(\.kind) == right.due.map(\.kind) && left.due.map(\.count) == right.due.map(\.count)
                && left.invoices == right.invoices && left.changes == right.changes
        }
    }

    /// The calendar's moment, nil when the auth node does not answer.
    public var now: String?
    public var lastMove: Move?

    public init(state: ConsoleState, lastMove: CalendarMove?) {
        now = state.calendar?.iso8601
        guard let move = lastMove else { return }
        var due: [(kind: String, count: Int)] = []
        for (kind, count) in move.report?["by_kind"]?.objectValue ?? JSONObject() {
            due.append((kind, Int(count.intValue ?? 0)))
        }
        var invoices: [String] = []
        var changes: [String] = []
        // What happened in (from, to]: what the calendar's due events produced.
        func during(_ moment: SimTime) -> Bool { moment > move.from && moment <= move.to }
        for organization in state.organizations ?? [] {
            for invoice in organization.invoices where during(invoice.issuedAt) {
                invoices.append(
                    "\(organization.name): \(invoice.total) \(invoice.currency) for \(invoice.periodStart.iso8601.prefix(10)) to \(invoice.periodEnd.iso8601.prefix(10))"
                )
            }
            for change in organization.history where during(change.at) {
                changes.append(
                    "\(organization.name): \(change.state.rawValue) (\(change.reason), by \(change.actor)) at \(change.at.iso8601)"
                )
            }
        }
        self.lastMove = Move(
            from: move.from.iso8601, to: move.to.iso8601, madeHere: move.report != nil, due: due, invoices: invoices,
            changes: changes)
    }
}

// MARK: - Organizations

/// Geo isolation made visible: per organization, what the auth node keeps and what each geo holds.
public struct OrganizationsView: Sendable, Equatable {
    public struct Cell: Sendable, Equatable {
        public var geo: String
        public var isHome: Bool
        /// What a token of the organization gets from this geo; nil when the geo did not answer.
        public var objects: OrganizationObjects?
    }

    public struct Row: Sendable, Equatable {
        public var id: String
        public var name: String
        public var homeGeo: String
        public var plan: String
        public var state: String
        public var trial: String
        public var credits: String
        public var cells: [Cell]
    }

    /// Whether the auth node answered.
    public var available: Bool
    public var geos: [String]
    public var rows: [Row]
    /// How many organizations exist (rows may hold fewer).
    public var total: Int

    public init(state: ConsoleState) {
        available = state.organizations != nil
        geos = state.geos
        total = state.organizationCount
        rows = (state.organizations ?? []).map { organization in
            let plan: String
            if organization.plan == "enterprise" {
                plan = "Enterprise"
            } else {
                plan = organization.paymentMethod ? "Plus (paid)" : "Plus (free)"
            }
            var trial = "-"
            if organization.plan == "enterprise" {
                trial = "contract"
            } else if let end = organization.trialEnd {
                trial = organization.trialActive ? "until \(end.iso8601.prefix(10))" : "ended \(end.iso8601.prefix(10))"
            }
            var credits = "-"
            if let left = organization.creditsLeft {
                credits = "\(left) of \(organization.creditsGranted ?? "?") \(organization.currency) left"
            }
            return Row(
                id: organization.id, name: organization.name, homeGeo: organization.homeGeo ?? "-", plan: plan,
                state: organization.state, trial: trial, credits: credits,
                cells: state.geos.map { geo in
                    Cell(geo: geo, isHome: geo == organization.homeGeo, objects: organization.objects[geo])
                })
        }
    }
}
