import KonnectHTTP
import KonnectStorage
import Synchronization

/// Keyed records kept in memory and written later, off the request path: a key recorded several times
/// before a write is written once, with its latest value. Written every `intervalMilliseconds` by a
/// background thread, on `flush()`, and by any geo write that happens first (`RideAlong`).
final class WriteBehind<Key: Hashable & Sendable, Value: Sendable>: RideAlong, Sendable {
    private struct Entry {
        var value: Value
        var generation: UInt64
    }

    private let entries = Mutex<(next: UInt64, pending: [Key: Entry])>((0, [:]))
    private let database: Database
    private let write: @Sendable (Transaction, [Key: Value]) throws -> Void
    private let intervalMilliseconds: Int
    private let log: LoopLog
    private let stopping = Mutex(false)
    private let wake = Signal()

    init(
        _ label: String, database: Database, intervalMilliseconds: Int = 1000,
        write: @escaping @Sendable (Transaction, [Key: Value]) throws -> Void
    ) {
        self.database = database
        self.write = write
        self.intervalMilliseconds = intervalMilliseconds
        log = LoopLog(loop: label)
    }

    func record(_ value: Value, for key: Key) {
        entries.withLock { state in
            state.next += 1
            state.pending[key] = Entry(value: value, generation: state.next)
        }
    }

    /// The value recorded for `key` and not written yet.
    func pending(_ key: Key) -> Value? { entries.withLock { $0.pending[key]?.value } }

    /// Drops what was recorded for `key` and not written yet.
    func discard(_ key: Key) { _ = entries.withLock { $0.pending.removeValue(forKey: key) } }

    func writePending(in transaction: Transaction) throws -> @Sendable () -> Void {
        let snapshot = entries.withLock { $0.pending }
        guard !snapshot.isEmpty else { return {} }
        try write(transaction, snapshot.mapValues(\.value))
        let written = snapshot.mapValues(\.generation)
        return { [self] in
            entries.withLock { state in
                for (key, generation) in written where state.pending[key]?.generation == generation {
                    state.pending[key] = nil
                }
            }
        }
    }

    /// Writes what is pending now, in a transaction of its own.
    func flush() throws {
        guard entries.withLock({ !$0.pending.isEmpty }) else { return }
        let settled = try database.write { transaction in try writePending(in: transaction) }
        settled()
    }

    /// Flushes every interval until `stop()`, which flushes one last time.
    func start() {
        spawnThread(name: log.loop) { [self] in
            while !stopping.withLock({ $0 }) {
                wake.wait(after: wake.current, timeoutMilliseconds: intervalMilliseconds)
                do {
                    try flush()
                    log.succeeded()
                } catch {
                    log.failed(error, next: "keeping the records in memory, retrying in \(intervalMilliseconds) ms")
                }
            }
        }
    }

    func stop() {
        stopping.withLock { $0 = true }
        wake.fire()
        do { try flush() } catch { Log.error("\(log.loop): the last flush failed: \(error)") }
    }
}
