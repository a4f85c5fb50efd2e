import KonnectCore
import KonnectStorage

#if canImport(Glibc)
    import Glibc
#endif

/// Data planes' heartbeats (C2): a ping only notes the node's latest one in memory; they are written
/// to the node list every two seconds, and the list shows the latest ones meanwhile.
struct NodePresence: Sendable {
    let nodes: DataPlaneNodeStore
    let pings: WriteBehind<String, NodePing>

    init(nodes: DataPlaneNodeStore) {
        self.nodes = nodes
        pings = WriteBehind("geo-ping-writes", database: nodes.database.database, intervalMilliseconds: 2000) {
            transaction, pings in try nodes.recordPings(pings, in: transaction)
        }
    }

    func note(_ node: String, configHash: String) {
        pings.record(NodePing(lastPing: NodePresence.wallSeconds(), configHash: configHash), for: node)
    }

    /// A node record with its latest heartbeat, written or not.
    func current(_ record: DataPlaneNodeRecord) -> DataPlaneNodeRecord {
        guard let ping = pings.pending(record.id) else { return record }
        var current = record
        current.lastPing = ping.lastPing
        current.configHash = ping.configHash
        return current
    }

    /// Wall-clock seconds: heartbeats and connections are operational, not business time.
    static func wallSeconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec)
    }
}
