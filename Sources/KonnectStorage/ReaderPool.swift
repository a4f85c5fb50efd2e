import CSQLite
@preconcurrency import Dispatch
import Synchronization

/// The read side of a `Database`: up to `capacity` connections, opened on first need and kept,
/// each `query_only` with its own statement cache. A read takes an idle connection (or waits for
/// one when all are busy: never for the writer) and runs in a deferred transaction, which in WAL
/// mode sees the last commit made before its first statement and nothing after it.
final class ReaderPool: Sendable {
    let path: String
    let capacity: Int
    private let slots: DispatchSemaphore
    private let idle = Mutex<[Connection]>([])

    init(path: String, capacity: Int) {
        self.path = path
        self.capacity = capacity
        slots = DispatchSemaphore(value: capacity)
    }

    func read<T>(_ body: (Transaction) throws -> T) throws -> T {
        slots.wait()
        defer { slots.signal() }
        let connection = try idle.withLock { $0.popLast() } ?? open()
        // A connection whose transaction could not be ended is closed rather than handed out again.
        var reusable = false
        defer { if reusable { idle.withLock { $0.append(connection) } } }
        try connection.execute("BEGIN DEFERRED")
        let result: T
        do {
            result = try body(Transaction(connection: connection))
        } catch {
            reusable = Self.endTransaction(connection)
            throw error
        }
        reusable = Self.endTransaction(connection)
        return result
    }

    /// Ends a read transaction (there is nothing to keep), which releases its snapshot so that later
    /// reads see later commits and the WAL checkpoint can move on. False when that failed.
    private static func endTransaction(_ connection: Connection) -> Bool { connection.rollBack() }

    private func open() throws(DatabaseError) -> Connection {
        let connection = try Connection(path: path, flags: SQLITE_OPEN_READWRITE)
        try connection.executeScript("PRAGMA query_only=1")
        return connection
    }
}
