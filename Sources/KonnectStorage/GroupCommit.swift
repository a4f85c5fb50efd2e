import CSQLite
@preconcurrency import Dispatch
import Synchronization

/// The write side of a `Database`: concurrent `write` calls share one transaction and one commit.
///
/// Leader and followers: a caller queues its body; if no batch is running it becomes the leader,
/// takes the queued bodies (its own first, then those queuing while they run, up to `maximumBatch`),
/// runs each in its own savepoint inside one `BEGIN IMMEDIATE` transaction on the writer connection,
/// commits (one fsync with `synchronous=FULL`), hands leadership to the first body still queued, and
/// wakes its followers with their results. While a batch commits, the next one queues up, so the batch
/// size follows the load with no added wait. A body that throws is rolled back to its savepoint and its caller gets the
/// error at once; the others are unaffected. A caller returns only after the commit that holds its
/// changes succeeded; if the commit fails, every body of the batch gets the error.
final class GroupCommit: Sendable {
    private let writer: Connection
    private let maximumBatch: Int
    private let state = Mutex(State())

    private struct State {
        var queue: [PendingWrite] = []
        /// True from the moment a caller becomes leader until a leader finds the queue empty.
        var leading = false
        /// Transactions committed, to see how writes were grouped.
        var commits = 0
    }

    init(writer: Connection, maximumBatch: Int) {
        self.writer = writer
        self.maximumBatch = maximumBatch
    }

    /// Writes waiting for a batch (not counting a batch under way).
    var queuedWrites: Int { state.withLock { $0.queue.count } }
    /// How many transactions committed at least one write.
    var commits: Int { state.withLock { $0.commits } }

    /// What `RunningBodies` records for bodies of this database.
    var identity: ObjectIdentifier { ObjectIdentifier(self) }

    func write<T>(_ body: (Transaction) throws -> T) throws -> T {
        // The body never outlives this call: the caller waits until its body has run, and the
        // leader drops its reference to the body before it wakes the caller.
        try withoutActuallyEscaping(body) { body in
            let result = ResultSlot<T>()
            let pending = PendingWrite { transaction in
                do {
                    result.value = try body(transaction)
                    return nil
                } catch {
                    return error
                }
            }
            let leads = state.withLock { state in
                state.queue.append(pending)
                if state.leading { return false }
                state.leading = true
                return true
            }
            if leads || pending.waitForTurn() { leadOneBatch() }
            if let error = pending.error { throw error }
            guard let value = result.value else {
                throw DatabaseError.misuse("a write finished without a result or an error", sql: "")
            }
            return value
        }
    }

    /// Runs the batch at the head of the queue (which starts with the leader's own body), then passes
    /// leadership on and wakes the batch's callers.
    private func leadOneBatch() {
        let outcomes = RunningBodies.marking(identity) { commitBatch() }
        let committed = outcomes.contains { $0.1 == nil }
        let next = state.withLock { state -> PendingWrite? in
            if committed { state.commits += 1 }
            if state.queue.isEmpty { state.leading = false }
            return state.queue.first
        }
        // The next batch starts (and its fsync overlaps) while this one's callers wake up.
        next?.promote()
        for (pending, error) in outcomes { pending.finish(error) }
    }

    /// Takes up to `limit` bodies from the head of the queue.
    private func takeQueued(_ limit: Int) -> [PendingWrite] {
        state.withLock { state in
            let count = min(state.queue.count, limit)
            let taken = Array(state.queue.prefix(count))
            state.queue.removeFirst(count)
            return taken
        }
    }

    /// Runs queued bodies in one transaction: those queued when the batch starts, then those that
    /// queued while they ran (up to `maximumBatch` in all), so that slow bodies do not leave a commit
    /// for each small group that arrived meanwhile. Bodies that failed on their own have been finished
    /// already; returns the outcome of the others (nil: committed).
    private func commitBatch() -> [(PendingWrite, (any Error)?)] {
        let transaction = Transaction(connection: writer)
        var outcomes: [(PendingWrite, (any Error)?)] = []
        var succeeded: [PendingWrite] = []
        var batch = takeQueued(maximumBatch)
        var index = 0
        while true {
            if index == batch.count {
                let more = takeQueued(maximumBatch - batch.count)
                if more.isEmpty { break }
                batch += more
            }
            let pending = batch[index]
            if index == 0 || !writer.isInTransaction {
                do {
                    if !writer.rollBack() {
                        throw DatabaseError(
                            code: SQLITE_ERROR, message: "SQLite refuses to end a failed transaction; restart the node",
                            sql: "ROLLBACK")
                    }
                    try writer.execute("BEGIN IMMEDIATE")
                } catch {
                    for remaining in batch[index...] { remaining.finish(error) }
                    break
                }
            }
            index += 1
            var failure: (any Error)?
            do {
                try writer.execute("SAVEPOINT group_commit")
                failure = pending.run(transaction)
                if failure == nil { try writer.execute("RELEASE group_commit") }
            } catch {
                failure = error
            }
            guard let failure else {
                succeeded.append(pending)
                continue
            }
            if !rollBackToSavepoint() {
                // SQLite ended the whole transaction (some I/O and memory errors do): what the earlier
                // bodies wrote is gone with it. The rest of the batch continues in a new transaction.
                let lost = DatabaseError(
                    code: SQLITE_ABORT,
                    message: "this write was rolled back with its group commit because another write in the same "
                        + "transaction failed with: \(failure); nothing of it was committed, retry it",
                    sql: "ROLLBACK")
                outcomes += succeeded.map { ($0, lost) }
                succeeded = []
            }
            pending.finish(failure)
        }
        guard writer.isInTransaction else { return outcomes }
        guard !succeeded.isEmpty else {
            writer.rollBack()  // nothing to keep; a failure leaves nothing either
            return outcomes
        }
        do {
            try writer.execute("COMMIT")
            outcomes += succeeded.map { ($0, nil) }
        } catch {
            writer.rollBack()
            outcomes += succeeded.map { ($0, error) }
        }
        return outcomes
    }

    /// Undoes a failed body. False when the transaction is gone (ended by SQLite or unrecoverable, in
    /// which case it is rolled back entirely).
    private func rollBackToSavepoint() -> Bool {
        guard writer.isInTransaction else { return false }
        do {
            try writer.execute("ROLLBACK TO group_commit")
            try writer.execute("RELEASE group_commit")
            return true
        } catch {
            writer.rollBack()
            return false
        }
    }
}

/// One caller's body waiting in the queue of a `GroupCommit`.
///
/// Shared between the caller and the leader; the semaphore orders every access: the leader writes
/// `error` (or `promoted`) before signalling, the caller reads them after waking.
private final class PendingWrite: @unchecked Sendable {
    private var body: ((Transaction) -> (any Error)?)?
    private(set) var error: (any Error)?
    private var promoted = false
    private let wakeUp = DispatchSemaphore(value: 0)

    init(_ body: @escaping (Transaction) -> (any Error)?) {
        self.body = body
    }

    /// Runs the body once; its error, if it threw.
    func run(_ transaction: Transaction) -> (any Error)? {
        guard let body else { return DatabaseError.misuse("a queued write was run twice") }
        self.body = nil
        return body(transaction)
    }

    /// Blocks until this write is finished (false) or its caller must lead the next batch (true).
    func waitForTurn() -> Bool {
        wakeUp.wait()
        return promoted
    }

    func promote() {
        promoted = true
        wakeUp.signal()
    }

    func finish(_ error: (any Error)?) {
        body = nil
        self.error = error
        wakeUp.signal()
    }
}

/// Carries a body's result from the leader's thread back to its caller.
private final class ResultSlot<T>: @unchecked Sendable {
    var value: T?
}
