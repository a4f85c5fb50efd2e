import Foundation
import Synchronization
import Testing

@testable import KonnectStorage

@Suite struct WriteBehindTests {
    let directory: TemporaryDirectory
    let db: Database
    let probe = Probe()

    /// What the tests control and observe of the write-behind's owner.
    final class Probe: Sendable {
        /// When set, writing the records fails (a full disk, say).
        let failing = Atomic<Bool>(false)
        let logged = Mutex<[String]>([])
        /// Every set of records handed to a write.
        let batches = Mutex<[[String: Int64]]>([])
    }

    init() throws {
        directory = try TemporaryDirectory()
        db = try Database(
            path: directory.file("test.sqlite"),
            migrations: [Migration(version: 1, sql: "CREATE TABLE last_use (id TEXT PRIMARY KEY, at INTEGER NOT NULL)")]
        )
    }

    struct DiskFull: Error {}

    func makeWriteBehind(interval: Duration = .seconds(3600)) -> WriteBehind<String, Int64> {
        let probe = probe
        return WriteBehind(
            name: "token last use", database: db, interval: interval,
            log: { line in probe.logged.withLock { $0.append(line) } },
            persist: { tx, records in
                probe.batches.withLock { $0.append(records) }
                for (id, at) in records {
                    try tx.execute(
                        "INSERT INTO last_use (id, at) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at",
                        .text(id), .int(at))
                }
                if probe.failing.load(ordering: .relaxed) { throw DiskFull() }
            })
    }

    func stored() throws -> [String: Int64] {
        try db.read { tx in
            var values: [String: Int64] = [:]
            for row in try tx.query("SELECT id, at FROM last_use") { values[row.string("id")!] = row.int("at")! }
            return values
        }
    }

    @Test("records for one key coalesce: the last value wins and one write carries them all")
    func coalesces() throws {
        let behind = makeWriteBehind()
        behind.record(1, for: "a")
        behind.record(2, for: "b")
        behind.record(3, for: "a")
        #expect(behind.pendingCount == 2)
        #expect(try stored() == [:])
        try behind.flush()
        #expect(try stored() == ["a": 3, "b": 2])
        #expect(probe.batches.withLock { $0 } == [["a": 3, "b": 2]])
        #expect(behind.pendingCount == 0)
        // Nothing left: another flush writes nothing.
        try behind.flush()
        #expect(probe.batches.withLock { $0 }.count == 1)
    }

    @Test("flush writes everything recorded from many threads")
    func flushWritesEverything() throws {
        let behind = makeWriteBehind()
        onThreads(8) { thread in
            for index in 0..<250 { behind.record(Int64(index), for: "t\(thread)-\(index)") }
        }
        try behind.flush()
        let values = try stored()
        #expect(values.count == 2000)
        #expect(values["t7-249"] == 249)
        #expect(behind.pendingCount == 0)
    }

    @Test("a failed flush keeps the records, logs what happens next, and a newer value wins on the retry")
    func failedFlushKeepsRecords() throws {
        let behind = makeWriteBehind()
        behind.record(1, for: "a")
        behind.record(1, for: "b")
        probe.failing.store(true, ordering: .relaxed)
        #expect(throws: DiskFull.self) { try behind.flush() }
        #expect(try stored() == [:])
        #expect(behind.pendingCount == 2)
        behind.record(5, for: "a")
        let failure = try #require(probe.logged.withLock { $0 }.first)
        #expect(failure.contains("token last use: could not write 2 records"))
        #expect(failure.contains("kept for the next flush"))

        probe.failing.store(false, ordering: .relaxed)
        try behind.flush()
        #expect(try stored() == ["a": 5, "b": 1])
        #expect(probe.logged.withLock { $0 }.last?.contains("after 1 failed attempts") == true)
    }

    @Test("the background queue writes what was recorded without a flush")
    func backgroundWrites() throws {
        let behind = makeWriteBehind(interval: .milliseconds(20))
        behind.record(42, for: "a")
        #expect(try eventually { try stored() == ["a": 42] })
        try behind.stop()
    }

    @Test("stop writes what is left and ends the background writes")
    func stopFlushes() throws {
        let behind = makeWriteBehind()
        behind.record(7, for: "z")
        try behind.stop()
        #expect(try stored() == ["z": 7])
    }
}
