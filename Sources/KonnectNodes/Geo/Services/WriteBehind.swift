import KonnectHTTP
import KonnectStorage
import Synchronization

/// Records kept in memory by key (the last value recorded wins) and written together in one `write`,
/// off the request path: every `interval` on a background thread, and at once on `flush()`. A failed
/// write keeps its records for the next attempt and is logged with what happens next.
///
/// A stand-in with the interface of the storage layer's `WriteBehind`, until that lands on main.
final class WriteBehind<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    typealias Persist = @Sendable (Transaction, [Key: Value]) throws -> Void

    private let database: Database
    private let name: String
    private let interval: Duration
    private let log: @Sendable (String) -> Void
    private let persist: Persist
    private let pending = Mutex<[Key: Value]>([:])
    private let flushing = Mutex<Int>(0)
    private let stopped = Mutex(false)

    init(
        name: String, database: Database, interval: Duration, log: @escaping @Sendable (String) -> Void,
        persist: @escaping Persist
    ) {
        self.name = name
        self.database = database
        self.interval = interval
        self.log = log
        self.persist = persist
        let milliseconds = Int(
            interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000)
        spawnThread(name: "write-behind") { [weak self] in
            while true {
                sleepMilliseconds(max(1, milliseconds))
                guard let self, !self.stopped.withLock({ $0 }) else { return }
                do {
                    try self.flush(next: "kept in memory, next attempt in \(interval)")
                } catch {
                    // Logged by `flush`, with the records kept for the next attempt.
                }
            }
        }
    }

    func record(_ value: Value, for key: Key) {
        pending.withLock { $0[key] = value }
    }

    var pendingCount: Int { pending.withLock { $0.count } }

    func flush() throws { try flush(next: "kept for the next flush") }

    func stop() throws {
        stopped.withLock { $0 = true }
        try flush()
    }

    private func flush(next: String) throws {
        try flushing.withLock { failures in
            let records = pending.withLock { pending in
                let taken = pending
                pending = [:]
                return taken
            }
            guard !records.isEmpty else { return }
            do {
                try database.write { transaction in try persist(transaction, records) }
            } catch {
                pending.withLock { pending in pending.merge(records) { newer, _ in newer } }
                failures += 1
                log("\(name): could not write \(records.count) records (attempt \(failures)): \(error); \(next)")
                throw error
            }
            if failures > 0 {
                log("\(name): wrote \(records.count) records after \(failures) failed attempts")
                failures = 0
            }
        }
    }
}
