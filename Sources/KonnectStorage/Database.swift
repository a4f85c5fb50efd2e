import CSQLite

#if canImport(Glibc)
    import Glibc
#endif

/// One node's SQLite database, shaped like GRDB's `DatabasePool`: WAL, one writer connection and a
/// small pool of reader connections, versioned migrations. Nothing else in the project touches the
/// SQLite C API.
///
/// - `read` runs on a reader in a transaction that sees one committed snapshot (the last commit before
///   its first statement) and never waits for a writer. A read that starts after a `write` returned
///   sees that write.
/// - `write` runs in a group commit (see `GroupCommit`): concurrent writes share one `BEGIN IMMEDIATE`
///   transaction and one fsync, each in its own savepoint. It returns only after the commit holding
///   its changes succeeded, so a node may answer 2xx as soon as `write` returns.
///
/// A body may run on another thread than its caller's (the batch's leader), so it must not depend on
/// thread identity, and it must not call `read` or `write` on the same database: that would wait for
/// itself, and it fails with a `DatabaseError` (SQLITE_MISUSE) instead.
public final class Database: Sendable {
    public let path: String
    private let writes: GroupCommit
    private let readers: ReaderPool

    /// How hard a commit pushes to disk. `full` fsyncs every commit (acknowledged API writes); `normal`
    /// survives a process crash but not a power loss (a data plane's call counters, written per request).
    public enum Durability: Sendable { case full, normal }

    /// Opens (or creates) the database and applies the migrations it has not seen yet.
    ///
    /// - Parameters:
    ///   - readers: how many reader connections at most (opened on first need).
    ///   - maximumBatch: how many concurrent writes at most share one transaction.
    public init(
        path: String, migrations: [Migration], durability: Durability = .full, readers: Int = 4,
        maximumBatch: Int = 128
    ) throws(DatabaseError) {
        guard readers >= 1, maximumBatch >= 1 else {
            throw .misuse("a database needs at least one reader and batches of at least one write", sql: "open \(path)")
        }
        self.path = path
        let writer = try Connection(path: path, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        // The database is its node's alone: 0600, also for a file an older version created 0644. SQLite
        // gives the -wal and -shm files the database file's mode; existing ones are set here too.
        for file in [path, path + "-wal", path + "-shm"] { chmod(file, 0o600) }
        let mode = try writer.query("PRAGMA journal_mode=WAL", []).first?.string("journal_mode")
        guard mode == "wal" else {
            throw DatabaseError(
                code: SQLITE_CANTOPEN, message: "the journal mode is \(mode ?? "unknown"), not WAL: readers would wait",
                sql: "PRAGMA journal_mode=WAL")
        }
        try writer.executeScript(durability == .full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL")
        try writer.executeScript("PRAGMA foreign_keys=ON")
        try Self.migrate(writer, migrations)
        writes = GroupCommit(writer: writer, maximumBatch: maximumBatch)
        self.readers = ReaderPool(path: path, capacity: readers)
    }

    /// Runs the migrations newer than the stored version in version order, each in its own
    /// transaction with its version, so a failing one leaves the version at the last one applied.
    private static func migrate(_ writer: Connection, _ migrations: [Migration]) throws(DatabaseError) {
        let current = try writer.query("PRAGMA user_version", []).first?.int("user_version") ?? 0
        for migration in migrations.sorted(by: { $0.version < $1.version }) where migration.version > current {
            do {
                try writer.executeScript("BEGIN IMMEDIATE")
                try writer.executeScript(migration.sql)
                try writer.executeScript("PRAGMA user_version = \(migration.version)")
                try writer.executeScript("COMMIT")
            } catch {
                writer.rollBack()
                throw DatabaseError(
                    code: error.code, message: "migration \(migration.version) failed: \(error.message)",
                    sql: error.sql)
            }
        }
    }

    /// The schema version the database is at.
    public var schemaVersion: Int {
        let version = try? read { db in try db.query("PRAGMA user_version").first?.int("user_version") }
        return Int(version.flatMap { $0 } ?? 0)
    }

    /// Runs `body` in the next group commit, in its own savepoint: committed (and fsynced) when this
    /// returns, rolled back when `body` throws, whose error is rethrown unchanged. Throws the commit's
    /// error if the shared commit failed.
    @discardableResult
    public func write<T>(_ body: (Transaction) throws -> T) throws -> T {
        try refuseNesting("write")
        return try writes.write(body)
    }

    /// Runs `body` on a reader connection, in a transaction that sees one committed snapshot. The
    /// transaction cannot write (`query_only`).
    @discardableResult
    public func read<T>(_ body: (Transaction) throws -> T) throws -> T {
        try refuseNesting("read")
        return try RunningBodies.marking(writes.identity) { try readers.read(body) }
    }

    /// Writes queued behind the batch under way (for tests).
    var queuedWrites: Int { writes.queuedWrites }
    /// Transactions that committed at least one write since the database was opened: fewer than the
    /// writes when group commit batched them.
    public var commits: Int { writes.commits }

    private func refuseNesting(_ call: String) throws(DatabaseError) {
        guard RunningBodies.contains(writes.identity) else { return }
        throw .misuse(
            "\(call) was called inside a read or write body of the same database (\(path)); it would wait for "
                + "itself. Use the enclosing body's transaction, or call \(call) after the body returned.")
    }
}
