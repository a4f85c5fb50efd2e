import KonnectCore
import KonnectStorage
import Synchronization

/// What a geo write changed, as the stores report it. `GeoDatabase.write` hands the changes of a
/// committed write to `GeoWakeups`, the one place that turns them into wake-ups; a write that throws
/// (rolled back) changed nothing.
enum GeoChange: Hashable, Sendable {
    /// A control plane's configuration version, decommission state or existence changed.
    case configuration(controlPlaneID: String)
    /// A Mesh global control plane's policies or existence changed.
    case meshConfiguration(meshControlPlaneID: String)
    /// An organization was decommissioned, recommissioned, purged or given other licenses: the
    /// configuration messages of all its control planes change.
    case organization(String)
    /// A data-plane credential was issued or revoked.
    case credentials
    /// A zone token was issued or revoked.
    case zoneTokens
    /// Usage records were queued for the auth node.
    case usageQueued
}

/// A transaction the stores can read in: a snapshot (`GeoDatabase.read`) or a write in progress.
protocol GeoReading {
    var transaction: Transaction { get }
}

/// A read-only view of `geo.sqlite`.
struct GeoSnapshot: GeoReading {
    let transaction: Transaction
}

/// One write to `geo.sqlite` in progress: the transaction the stores write in, what they changed, and
/// the steps that run once just before the commit (a control plane's new configuration version with
/// the item changes that make it, recorded once however many entities the write touched).
final class GeoWork: GeoReading {
    let transaction: Transaction
    private(set) var changes: [GeoChange] = []
    /// Steps receive the work rather than capture it: a step that captured it would make a cycle
    /// (work -> steps -> work) and every write would leak its work and all it noted.
    private var finishing: [(key: String, step: (GeoWork) throws -> Void)] = []
    private var itemChanges: [String: [ConfigurationChange]] = [:]

    init(transaction: Transaction) { self.transaction = transaction }

    /// Notes what a store changed; published after the commit.
    func record(_ change: GeoChange) {
        if !changes.contains(change) { changes.append(change) }
    }

    /// Notes a change to the items of a control plane's configuration (Gateway or Mesh).
    func noteItemChange(_ change: ConfigurationChange, target: String) {
        itemChanges[target, default: []].append(change)
    }

    /// The item changes noted for a control plane in this write, in order.
    func itemChanges(of target: String) -> [ConfigurationChange] { itemChanges[target] ?? [] }

    /// Runs `step` once before the commit, however often it is asked for under the same key.
    func beforeCommit(_ key: String, _ step: @escaping (GeoWork) throws -> Void) {
        guard !finishing.contains(where: { $0.key == key }) else { return }
        finishing.append((key, step))
    }

    fileprivate func finish() throws {
        var index = 0
        while index < finishing.count {
            try finishing[index].step(self)
            index += 1
        }
        finishing = []
    }
}

/// Records kept in memory and written later, that also ride along with any write that happens first
/// (see `GeoDatabase.alsoInEveryWrite`).
protocol RideAlong: Sendable {
    /// Writes what is pending into `transaction`; the returned closure runs once it committed.
    func writePending(in transaction: Transaction) throws -> @Sendable () -> Void
}

/// The geo's database with its unit of work: stores read in `read` (never waiting for writes) and
/// write in `write`, which commits, then publishes what the stores changed.
final class GeoDatabase: Sendable {
    let database: Database
    let ids: IdentifierSource
    let wakeups: GeoWakeups
    private let rideAlong = Mutex<[any RideAlong]>([])

    init(path: String, ids: IdentifierSource, wakeups: GeoWakeups) throws {
        database = try Database(path: path, migrations: GeoSchema.migrations)
        self.ids = ids
        self.wakeups = wakeups
    }

    /// Records written behind (licenses, the calendar's moment) are also written by every write that
    /// happens before their next periodic flush, so an acknowledged write never leaves them behind.
    func alsoInEveryWrite(_ records: any RideAlong) {
        rideAlong.withLock { $0.append(records) }
    }

    func read<T>(_ body: (GeoSnapshot) throws -> T) throws -> T {
        try database.read { transaction in try body(GeoSnapshot(transaction: transaction)) }
    }

    /// Runs `body` in a write transaction; once it committed (durable), publishes what the stores changed.
    @discardableResult
    func write<T>(_ body: (GeoWork) throws -> T) throws -> T {
        let riders = rideAlong.withLock { $0 }
        let (result, changes, settled) = try database.write {
            transaction -> (T, [GeoChange], [@Sendable () -> Void]) in
            let work = GeoWork(transaction: transaction)
            let result = try body(work)
            try work.finish()
            let settled = try riders.map { try $0.writePending(in: transaction) }
            return (result, work.changes, settled)
        }
        for done in settled { done() }
        wakeups.publish(changes)
        return result
    }

    /// `body` in the given transaction, or in a snapshot of its own when there is none.
    func reading<T>(_ context: (any GeoReading)?, _ body: (Transaction) throws -> T) throws -> T {
        if let context { return try body(context.transaction) }
        return try database.read { transaction in try body(transaction) }
    }

    /// A new object id, stored with the write.
    func newID(_ work: GeoWork) throws -> String { try ids.next(work.transaction) }
}
