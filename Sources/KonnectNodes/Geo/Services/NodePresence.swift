import KonnectCore
import KonnectStorage
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Data planes' heartbeats (C2): a ping only notes the node's latest one in memory; they are written
/// to the node list every two seconds, and the list shows the latest ones meanwhile.
final class NodePresence: Sendable {
    private let latest = Mutex<[String: NodePing]>([:])
    private let writes: WriteBehind<String, NodePing>

    init(nodes: DataPlaneNodeStore) {
        writes = WriteBehind(
            name: "data-plane heartbeats", database: nodes.database.database, interval: .seconds(2),
            log: { Log.warning($0) },
            persist: { transaction, pings in try nodes.recordPings(pings, in: transaction) })
    }

    func note(_ node: String, configHash: String) {
        let ping = NodePing(lastPing: NodePresence.wallSeconds(), configHash: configHash)
        latest.withLock { latest in
            latest[node] = ping
            writes.record(ping, for: node)
        }
    }

    /// A node record with its latest heartbeat, written or not.
    func current(_ record: DataPlaneNodeRecord) -> DataPlaneNodeRecord {
        guard let ping = latest.withLock({ $0[record.id] }) else { return record }
        var current = record
        current.lastPing = ping.lastPing
        current.configHash = ping.configHash
        return current
    }

    func stop() throws { try writes.stop() }

    /// Wall-clock seconds: heartbeats and connections are operational, not business time.
    static func wallSeconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec)
    }
}
