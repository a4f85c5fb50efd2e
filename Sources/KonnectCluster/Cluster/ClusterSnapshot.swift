import KonnectCore

/// The cluster at one moment, as timelines and the console see it: each node's process and health,
/// each data plane's and zone's own sync report, and each link with the faults in force on it.
public struct ClusterSnapshot: Sendable, Equatable {
    /// A data plane's or zone's own view of its sync (`GET /status` on its socket).
    public struct SyncReport: Sendable, Equatable {
        /// synced, disconnected or orphaned.
        public var state: String
        /// The configuration version (data planes) or policies version (zones) it runs.
        public var version: Int64?
        public var hash: String?
        public var orphanedReason: String?
        /// The control plane (or Mesh global control plane) it joined.
        public var target: String?

        public init(
            state: String, version: Int64? = nil, hash: String? = nil, orphanedReason: String? = nil,
            target: String? = nil
        ) {
            self.state = state
            self.version = version
            self.hash = hash
            self.orphanedReason = orphanedReason
            self.target = target
        }

        /// Reads a data plane's or zone's status document; nil when it has no state.
        public init?(status: JSON) {
            guard let state = status["state"]?.stringValue else { return nil }
            let synced = status["config"] ?? status["policies"]
            self.init(
                state: state, version: synced?["version"]?.intValue, hash: synced?["hash"]?.stringValue,
                orphanedReason: status["orphaned_reason"]?.stringValue,
                target: (status["control_plane_id"] ?? status["mesh_control_plane_id"])?.stringValue)
        }
    }

    public struct Node: Sendable, Equatable {
        public var name: String
        public var kind: NodeKind
        public var process: ProcessState
        /// Whether its socket answered `/health`; nil when not asked (down or paused).
        public var healthy: Bool?
        /// Data planes and zones: the geo they connect to.
        public var geo: String?
        /// Data planes and zones that answered their status.
        public var sync: SyncReport?

        public init(
            name: String, kind: NodeKind, process: ProcessState, healthy: Bool? = nil, geo: String? = nil,
            sync: SyncReport? = nil
        ) {
            self.name = name
            self.kind = kind
            self.process = process
            self.healthy = healthy
            self.geo = geo
            self.sync = sync
        }

        /// As `status` prints it: up, down, paused, or unresponsive (running, not answering).
        public var state: String {
            switch process {
            case .down: "down"
            case .paused: "paused"
            case .running: healthy == false ? "unresponsive" : "up"
            }
        }
    }

    /// A node-to-node connection, named by the connecting side (`eu->auth`, `dp1->eu`).
    public struct Link: Sendable, Equatable {
        public var from: String
        public var to: String
        public var fault: LinkFault

        public init(from: String, to: String, fault: LinkFault = LinkFault()) {
            self.from = from
            self.to = to
            self.fault = fault
        }

        public var name: String { LinkFault.linkName(from: from, to: to) }
    }

    public var nodes: [Node]
    public var links: [Link]

    public init(nodes: [Node], links: [Link]) {
        self.nodes = nodes
        self.links = links
    }

    public func node(_ name: String) -> Node? { nodes.first { $0.name == name } }
}

extension Cluster {
    /// Reads every node's process, health and (data planes, zones) status, and the links' faults.
    public func snapshot() -> ClusterSnapshot {
        let plan = faultPlan
        let nodes = status().map { status in
            ClusterSnapshot.Node(
                name: status.record.name, kind: status.record.kind, process: status.process, healthy: status.healthy,
                geo: status.record.connectedGeo, sync: status.details.flatMap(ClusterSnapshot.SyncReport.init(status:))
            )
        }
        let links = linkEnds.map {
            ClusterSnapshot.Link(from: $0.from, to: $0.to, fault: plan.links[$0.name] ?? LinkFault())
        }
        return ClusterSnapshot(nodes: nodes, links: links)
    }
}

extension NodeRecord {
    /// The geo a data plane or zone connects to (its `--geo` argument).
    public var connectedGeo: String? {
        guard kind == .dataPlane || kind == .zone else { return nil }
        return argument("--geo")
    }
}
