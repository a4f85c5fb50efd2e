@preconcurrency import Dispatch
import Synchronization

/// Records that a read wants to leave behind (a token's `last_used_at`), kept in memory by key (the
/// last value recorded wins) and written together in one `write`, off the request path: every
/// `interval` on a background queue, and at once on `flush()`.
///
/// A failed write is logged with what happens next, and its records are kept for the next attempt
/// (a value recorded meanwhile for the same key wins over the kept one). `flush()` returns once
/// everything recorded before it was called is committed, also when a background write was under way.
/// Call `stop()` at shutdown: what was recorded since the last write lives only in memory.
public final class WriteBehind<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// Writes the records in the transaction given, SQL living with the store that owns them.
    public typealias Persist = @Sendable (Transaction, [Key: Value]) throws -> Void

    private let database: Database
    private let name: String
    private let interval: Duration
    private let log: @Sendable (String) -> Void
    private let persist: Persist
    private let pending = Mutex<[Key: Value]>([:])
    /// Held across a whole write, so a `flush()` cannot return while records taken by another flush
    /// are still on their way to disk.
    private let flushing = Mutex<Failures>(Failures())
    private let timer: any DispatchSourceTimer

    private struct Failures {
        var consecutive = 0
    }

    /// - Parameters:
    ///   - name: what the records are, for log lines ("access token last use").
    ///   - interval: how often the background queue writes what was recorded.
    ///   - log: receives one line per failed write, and one when writing works again.
    public init(
        name: String, database: Database, interval: Duration, log: @escaping @Sendable (String) -> Void,
        persist: @escaping Persist
    ) {
        self.name = name
        self.database = database
        self.interval = interval
        self.log = log
        self.persist = persist
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "write-behind \(name)"))
        let (seconds, attoseconds) = interval.components
        let nanoseconds = max(1_000_000, Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
        timer.schedule(deadline: .now() + .nanoseconds(nanoseconds), repeating: .nanoseconds(nanoseconds))
        timer.setEventHandler { @Sendable [weak self] in self?.flushInBackground() }
        timer.activate()
    }

    deinit {
        timer.cancel()
    }

    /// Keeps `value` for `key` until the next write, replacing a value not yet written.
    public func record(_ value: Value, for key: Key) {
        pending.withLock { $0[key] = value }
    }

    /// How many keys wait to be written.
    public var pendingCount: Int { pending.withLock { $0.count } }

    /// Writes everything recorded so far in one transaction. On failure the records are kept for the
    /// next attempt and the error is rethrown.
    public func flush() throws {
        try flushing.withLock { failures in try write(&failures, next: "kept for the next flush") }
    }

    /// Stops the background writes and writes what is left.
    public func stop() throws {
        timer.cancel()
        try flush()
    }

    private func flushInBackground() {
        flushing.withLock { failures in
            do {
                try write(&failures, next: "kept in memory, next attempt in \(interval)")
            } catch {
                // Logged by `write`, with the records kept for the next tick.
            }
        }
    }

    /// `next` says what happens to the records after a failure, for the log line.
    private func write(_ failures: inout Failures, next: String) throws {
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
            failures.consecutive += 1
            log(
                "\(name): could not write \(records.count) records (attempt \(failures.consecutive)): \(error); \(next)"
            )
            throw error
        }
        if failures.consecutive > 0 {
            log("\(name): wrote \(records.count) records after \(failures.consecutive) failed attempts")
            failures.consecutive = 0
        }
    }
}
