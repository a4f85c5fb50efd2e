import KonnectCore
import KonnectStorage
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Data planes' heartbeats (C2): a ping only notes the node's latest one in memory, stamped with the
/// calendar's moment (what the APIs show is on the simulated calendar); they are written to the node
/// list every two seconds, and the list shows the latest ones meanwhile.
final class NodePresence: Sendable {
    private let latest = Mutex<[String: NodePing]>([:])
    private let writes: WriteBehind<String, NodePing>
    private let calendar: GeoCalendar

    init(nodes: DataPlaneNodeStore, calendar: GeoCalendar) {
        self.calendar = calendar
        writes = WriteBehind(
            name: "data-plane heartbeats", database: nodes.database.database, interval: .seconds(2),
            log: { Log.warning($0) },
            persist: { transaction, pings in try nodes.recordPings(pings, in: transaction) })
    }

    func note(_ node: String, configHash: String) {
        let ping = NodePing(lastPing: calendar.now.seconds, configHash: configHash)
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
}
