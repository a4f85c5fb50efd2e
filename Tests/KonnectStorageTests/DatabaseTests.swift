import Foundation
import Synchronization
import Testing

@testable import KonnectStorage

@Suite struct DatabaseTests {
    let directory: TemporaryDirectory
    let path: String
    static let items = [Migration(version: 1, sql: "CREATE TABLE items (name TEXT PRIMARY KEY)")]

    init() throws {
        directory = try TemporaryDirectory()
        path = directory.file("test.sqlite")
    }

    struct Refused: Error, Equatable {
        var index: Int
    }

    static func names(_ db: Database) throws -> [String] {
        try db.read { tx in try tx.query("SELECT name FROM items ORDER BY name").compactMap { $0.string("name") } }
    }

    static func insert(_ tx: Transaction, _ name: String) throws {
        try tx.execute("INSERT INTO items (name) VALUES (?)", .text(name))
    }

    /// Runs `writers` as one group commit: a first write (the holder, inserting "holder") leads a batch
    /// and holds the writer connection until every one of them is queued, then returns, so they all join
    /// its transaction. Returns the holder's error, if its write failed.
    @discardableResult
    static func asOneBatch(_ db: Database, _ writers: [@Sendable () -> Void]) throws -> String? {
        let holderError = Mutex<String?>(nil)
        let holderInside = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let problems = ThreadErrors()
        let holder = writers.count
        let controller = writers.count + 1
        onThreads(writers.count + 2) { index in
            switch index {
            case holder:
                do {
                    try db.write { tx in
                        try Self.insert(tx, "holder")
                        holderInside.signal()
                        if release.wait(timeout: .now() + 30) == .timedOut { problems.record("never released") }
                    }
                } catch {
                    holderError.withLock { $0 = "\(error)" }
                }
            case controller:
                holderInside.wait()
                holderInside.signal()
                if !eventually({ db.queuedWrites == writers.count }) {
                    problems.record("only \(db.queuedWrites) of \(writers.count) writes queued")
                }
                release.signal()
            default:
                // Start only once the holder is inside its body (pass the signal on to the others).
                holderInside.wait()
                holderInside.signal()
                writers[index]()
            }
        }
        guard problems.all.isEmpty else { throw TestFailure(problems.all.joined(separator: "; ")) }
        return holderError.withLock { $0 }
    }

    @Test("group commit: a body that throws among concurrent ones leaves nothing; the others commit together")
    func savepointPerWrite() throws {
        let db = try Database(path: path, migrations: Self.items)
        let outcomes = Mutex<[Int: String]>([:])
        let writers: [@Sendable () -> Void] = (0..<8).map { index in
            {
                let outcome: String
                do {
                    try db.write { tx in
                        try Self.insert(tx, "w\(index)")
                        if index == 3 { throw Refused(index: index) }
                        // A constraint violation after a successful insert of its own.
                        if index == 5 { try Self.insert(tx, "holder") }
                    }
                    outcome = "ok"
                } catch let error as Refused {
                    outcome = "refused \(error.index)"
                } catch let error as DatabaseError {
                    outcome = error.isConstraintViolation ? "constraint" : "\(error)"
                } catch {
                    outcome = "\(error)"
                }
                outcomes.withLock { $0[index] = outcome }
            }
        }
        let commitsBefore = db.commits
        #expect(try Self.asOneBatch(db, writers) == nil)

        let results = outcomes.withLock { $0 }
        #expect(results[3] == "refused 3")
        #expect(results[5] == "constraint")
        for index in [0, 1, 2, 4, 6, 7] { #expect(results[index] == "ok", "writer \(index)") }
        #expect(try Self.names(db) == ["holder", "w0", "w1", "w2", "w4", "w6", "w7"])
        // One transaction for the holder and the eight that queued while it ran.
        #expect(db.commits - commitsBefore == 1)
    }

    @Test("group commit: a follower whose body fails gets its error before the batch commits")
    func failureReturnsAtOnce() throws {
        // The batch runs in queue order: the holder's body (its leader), then a body that succeeds, the
        // failing one, and one that waits (inside the still open transaction) for the failing caller to
        // have returned. The leader itself runs the whole batch, so only a follower can return early.
        let db = try Database(path: path, migrations: Self.items)
        let failedCallerReturned = DispatchSemaphore(value: 0)
        let sawEarlyReturn = Atomic<Bool>(false)
        let failed = Atomic<Bool>(false)
        try Self.asOneBatch(
            db,
            [
                { _ = try? db.write { tx in try Self.insert(tx, "succeeds") } },
                {
                    _ = eventually { db.queuedWrites >= 1 }
                    do {
                        try db.write { tx in
                            try Self.insert(tx, "fails")
                            throw Refused(index: 1)
                        }
                    } catch {
                        failed.store(error as? Refused == Refused(index: 1), ordering: .relaxed)
                    }
                    failedCallerReturned.signal()
                },
                {
                    _ = eventually { db.queuedWrites >= 2 }
                    _ = try? db.write { tx in
                        let returned = failedCallerReturned.wait(timeout: .now() + 10) == .success
                        sawEarlyReturn.store(returned, ordering: .relaxed)
                        try Self.insert(tx, "waits")
                    }
                },
            ])
        let failedWithItsError = failed.load(ordering: .relaxed)
        let returnedBeforeCommit = sawEarlyReturn.load(ordering: .relaxed)
        #expect(failedWithItsError)
        #expect(returnedBeforeCommit)
        #expect(try Self.names(db) == ["holder", "succeeds", "waits"])
    }

    @Test("group commit: when the shared COMMIT fails, every write of the batch gets the error and leaves nothing")
    func commitFailureFailsTheBatch() throws {
        // A deferred foreign key is checked at COMMIT: one body breaking it fails the whole batch.
        let db = try Database(
            path: path,
            migrations: Self.items + [
                Migration(
                    version: 2,
                    sql: """
                        CREATE TABLE parents (id INTEGER PRIMARY KEY);
                        CREATE TABLE children (id INTEGER PRIMARY KEY,
                            parent INTEGER REFERENCES parents(id) DEFERRABLE INITIALLY DEFERRED);
                        """)
            ])
        let errors = Mutex<[String]>([])
        let writers: [@Sendable () -> Void] = [
            {
                do {
                    try db.write { tx in try tx.execute("INSERT INTO parents (id) VALUES (1)") }
                } catch {
                    errors.withLock { $0.append("\(error)") }
                }
            },
            {
                do {
                    try db.write { tx in try tx.execute("INSERT INTO children (id, parent) VALUES (1, 999)") }
                } catch {
                    errors.withLock { $0.append("\(error)") }
                }
            },
        ]
        let holderError = try Self.asOneBatch(db, writers)
        #expect(holderError?.contains("FOREIGN KEY") == true)
        #expect(try Self.names(db) == [])
        let messages = errors.withLock { $0 }
        #expect(messages.count == 2)
        #expect(messages.allSatisfy { $0.contains("FOREIGN KEY") })
        let counts = try db.read { tx in
            [
                try tx.scalar("SELECT count(*) FROM parents"), try tx.scalar("SELECT count(*) FROM children"),
            ]
        }
        #expect(counts == [.int(0), .int(0)])
        // The writer is usable again.
        try db.write { tx in try tx.execute("INSERT INTO parents (id) VALUES (2)") }
        #expect(try db.read { tx in try tx.scalar("SELECT count(*) FROM parents") } == .int(1))
    }

    @Test("many threads times many writes: every acknowledged write is there, also after reopening")
    func manyWriters() throws {
        let threads = 16
        let writes = 60
        let problems = ThreadErrors()
        do {
            let db = try Database(path: path, migrations: Self.items)
            onThreads(threads) { thread in
                for write in 0..<writes {
                    do {
                        try db.write { tx in try Self.insert(tx, "t\(thread)-\(write)") }
                    } catch {
                        problems.record(error)
                    }
                }
            }
            #expect(problems.all == [])
            #expect(try db.read { tx in try tx.scalar("SELECT count(*) FROM items") } == .int(Int64(threads * writes)))
        }
        let reopened = try Database(path: path, migrations: Self.items)
        let names = Set(try Self.names(reopened))
        let expected = Set((0..<threads).flatMap { thread in (0..<writes).map { "t\(thread)-\($0)" } })
        #expect(names == expected)
    }

    @Test("a read while a write body holds the writer sees the last commit and does not wait")
    func readDoesNotWaitForWriter() throws {
        let db = try Database(path: path, migrations: Self.items)
        try db.write { tx in try Self.insert(tx, "before") }
        let writerInside = DispatchSemaphore(value: 0)
        let readFinished = DispatchSemaphore(value: 0)
        let readerWasAwaited = Atomic<Bool>(false)
        let seen = Mutex<[String]>([])
        let problems = ThreadErrors()
        onThreads(2) { index in
            do {
                if index == 0 {
                    try db.write { tx in
                        try Self.insert(tx, "during")
                        writerInside.signal()
                        // The read must finish while this body still holds the writer.
                        let finished = readFinished.wait(timeout: .now() + 10) == .success
                        readerWasAwaited.store(finished, ordering: .relaxed)
                    }
                } else {
                    writerInside.wait()
                    let names = try Self.names(db)
                    seen.withLock { $0 = names }
                    readFinished.signal()
                }
            } catch {
                problems.record(error)
            }
        }
        #expect(problems.all == [])
        let readFinishedWhileWriterHeld = readerWasAwaited.load(ordering: .relaxed)
        #expect(readFinishedWhileWriterHeld)
        #expect(seen.withLock { $0 } == ["before"])
        #expect(try Self.names(db) == ["before", "during"])
    }

    @Test("a read sees one snapshot: a commit made while it runs is not visible inside it")
    func readSeesOneSnapshot() throws {
        let db = try Database(path: path, migrations: Self.items)
        try db.write { tx in try Self.insert(tx, "first") }
        let readStarted = DispatchSemaphore(value: 0)
        let committed = DispatchSemaphore(value: 0)
        let counts = Mutex<[SQLValue?]>([])
        let problems = ThreadErrors()
        onThreads(2) { index in
            do {
                if index == 0 {
                    readStarted.wait()
                    try db.write { tx in try Self.insert(tx, "second") }
                    committed.signal()
                } else {
                    try db.read { tx in
                        let before = try tx.scalar("SELECT count(*) FROM items")
                        readStarted.signal()
                        if committed.wait(timeout: .now() + 10) == .timedOut { problems.record("no commit") }
                        let after = try tx.scalar("SELECT count(*) FROM items")
                        counts.withLock { $0 = [before, after] }
                    }
                }
            } catch {
                problems.record(error)
            }
        }
        #expect(problems.all == [])
        #expect(counts.withLock { $0 } == [.int(1), .int(1)])
        #expect(try db.read { tx in try tx.scalar("SELECT count(*) FROM items") } == .int(2))
    }

    @Test("a read after a write returned sees that write, on every thread and every pooled reader")
    func readYourWrites() throws {
        let db = try Database(path: path, migrations: Self.items, readers: 2)
        let problems = ThreadErrors()
        onThreads(6) { thread in
            for write in 0..<40 {
                do {
                    let name = "t\(thread)-\(write)"
                    try db.write { tx in try Self.insert(tx, name) }
                    let found = try db.read { tx in
                        try tx.scalar("SELECT count(*) FROM items WHERE name = ?", .text(name))
                    }
                    if found != .int(1) { problems.record("\(name) not visible after its write returned") }
                } catch {
                    problems.record(error)
                }
            }
        }
        #expect(problems.all == [])
    }

    @Test("a read cannot write: its connection is query_only")
    func readCannotWrite() throws {
        let db = try Database(path: path, migrations: Self.items)
        let error = try #require(throws: DatabaseError.self) {
            try db.read { tx in try Self.insert(tx, "sneaky") }
        }
        #expect(error.code & 0xFF == 8)  // SQLITE_READONLY
        #expect(try Self.names(db) == [])
        // The reader is still usable.
        try db.write { tx in try Self.insert(tx, "proper") }
        #expect(try Self.names(db) == ["proper"])
    }

    @Test("migrations apply once, in version order, whatever order they are listed in")
    func migrationsInOrder() throws {
        let migrations = [
            Migration(version: 2, sql: "ALTER TABLE items ADD COLUMN size INTEGER NOT NULL DEFAULT 7"),
            Migration(version: 1, sql: "CREATE TABLE items (name TEXT PRIMARY KEY)"),
        ]
        do {
            let db = try Database(path: path, migrations: migrations)
            #expect(db.schemaVersion == 2)
            try db.write { tx in try Self.insert(tx, "a") }
        }
        // Reopening runs nothing again (both would fail if run twice) and applies only the new one.
        let db = try Database(
            path: path, migrations: migrations + [Migration(version: 3, sql: "CREATE INDEX items_size ON items(size)")])
        #expect(db.schemaVersion == 3)
        #expect(try db.read { tx in try tx.scalar("SELECT size FROM items WHERE name = 'a'") } == .int(7))
    }

    @Test("a failing migration leaves the version at the last one applied and none of its changes")
    func failingMigration() throws {
        let broken = Migration(version: 2, sql: "CREATE TABLE extra (x INTEGER); INSERT INTO missing VALUES (1)")
        let error = try #require(throws: DatabaseError.self) {
            _ = try Database(path: path, migrations: Self.items + [broken])
        }
        #expect(error.message.contains("migration 2"))
        #expect(error.message.contains("missing"))
        let db = try Database(path: path, migrations: Self.items)
        #expect(db.schemaVersion == 1)
        #expect(try db.read { tx in try tx.query("SELECT name FROM sqlite_master WHERE name = 'extra'") }.isEmpty)
    }

    enum Nesting: String, CaseIterable, Sendable {
        case writeInWrite, readInWrite, writeInRead, readInRead
    }

    @Test(
        "read or write inside a body of the same database fails with a clear error instead of deadlocking",
        arguments: Nesting.allCases)
    func nestingIsRefused(_ nesting: Nesting) throws {
        let db = try Database(path: path, migrations: Self.items)
        let other = try Database(path: directory.file("other.sqlite"), migrations: Self.items)
        var inner: (any Error)?
        let outer: (Transaction) throws -> Void = { tx in
            do {
                switch nesting {
                case .writeInWrite, .writeInRead: try db.write { tx in try Self.insert(tx, "inner") }
                case .readInWrite, .readInRead: _ = try Self.names(db)
                }
            } catch {
                inner = error
            }
            // Another database is fine.
            try other.write { tx in try Self.insert(tx, "elsewhere") }
        }
        switch nesting {
        case .writeInWrite, .readInWrite: try db.write(outer)
        case .writeInRead, .readInRead: try db.read(outer)
        }
        let error = try #require(inner as? DatabaseError)
        #expect(error.message.contains("inside a read or write body of the same database"))
        #expect(try Self.names(db) == [])
        #expect(try Self.names(other) == ["elsewhere"])
        // Outside a body, both work again.
        try db.write { tx in try Self.insert(tx, "after") }
        #expect(try Self.names(db) == ["after"])
    }

    @Test("more concurrent reads than pooled readers all get answers")
    func readerPoolBounded() throws {
        let db = try Database(path: path, migrations: Self.items, readers: 2)
        try db.write { tx in try Self.insert(tx, "x") }
        let problems = ThreadErrors()
        onThreads(12) { _ in
            for _ in 0..<50 {
                do {
                    if try Self.names(db) != ["x"] { problems.record("wrong answer") }
                } catch {
                    problems.record(error)
                }
            }
        }
        #expect(problems.all == [])
    }
}
