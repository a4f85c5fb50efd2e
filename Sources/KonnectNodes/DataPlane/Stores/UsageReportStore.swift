import KonnectCore
import KonnectStorage

/// A data plane's usage (B3): calls counted per service and route, and the numbered reports made from
/// them, kept in `usage.sqlite` until the geo acknowledges each.
///
/// Calls are counted in a memory-mapped `CounterFile` (one lane per event loop): a store to memory, no
/// system call, and it survives a crash of the process. Its totals only grow; `counter_marks` remembers
/// the totals already folded into reports, and a report is written in the same transaction as the
/// marks it accounts for, so a crash before the commit leaves the calls to the next report and one
/// after it never reports them again. A key the counter file cannot hold is counted in `counters`
/// (`synchronous=NORMAL`: survives a process crash, no fsync per call).
struct UsageReportStore: Sendable {
    let database: Database
    let counterFile: CounterFile

    static let migrations = [
        Migration(
            version: 1,
            sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE counters (service_id TEXT NOT NULL, route_id TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (service_id, route_id));
                CREATE TABLE outbox (seq INTEGER PRIMARY KEY, counts TEXT NOT NULL);
                """),
        // The counter file's totals already folded into reports, per lane and slot.
        Migration(
            version: 2,
            sql: """
                CREATE TABLE counter_marks (lane INTEGER NOT NULL, slot INTEGER NOT NULL, reported INTEGER NOT NULL, PRIMARY KEY (lane, slot));
                """),
    ]

    init(path: String, counterPath: String) throws {
        database = try Database(path: path, migrations: UsageReportStore.migrations, durability: .normal)
        counterFile = try CounterFile(path: counterPath, lanes: 64, slotsPerLane: 1024)
    }

    /// Counts one proxied call, from the event loop whose index is `lane` (one thread per lane).
    func count(serviceID: String, routeID: String, lane: Int) throws {
        if counterFile.increment(CounterKey(group: serviceID, name: routeID), lane: lane) { return }
        try database.write { db in
            try db.execute(
                "INSERT INTO counters(service_id, route_id, count) VALUES (?, ?, 1) ON CONFLICT(service_id, route_id) DO UPDATE SET count = count + 1",
                .text(serviceID), .text(routeID))
        }
    }

    /// Turns what was counted since the last report into the next numbered report, in one transaction;
    /// nothing when no call was counted. A report keeps its number across crashes and retries.
    func closeReport() throws {
        try database.write { db in
            let (counts, changed) = try unreportedCounts(db)
            guard !counts.isEmpty else { return }
            let last = try db.query("SELECT value FROM meta WHERE key = 'seq'").first?.text("value")
            let seq = (last.flatMap { Int64($0) } ?? 0) + 1
            try db.execute(
                "INSERT INTO outbox(seq, counts) VALUES (?, ?)", .int(seq), .text(JSON.array(counts.map(\.json)).text))
            try db.execute(
                "INSERT INTO meta(key, value) VALUES ('seq', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                .text(String(seq)))
            let identity = try db.query("SELECT value FROM meta WHERE key = 'counter_file'").first?.text("value")
            if identity != counterFile.identity {
                try db.execute("DELETE FROM counter_marks")
                try db.execute(
                    "INSERT INTO meta(key, value) VALUES ('counter_file', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    .text(counterFile.identity))
            }
            for counter in changed {
                try db.execute(
                    "INSERT INTO counter_marks(lane, slot, reported) VALUES (?, ?, ?) ON CONFLICT(lane, slot) DO UPDATE SET reported = excluded.reported",
                    .int(counter.lane), .int(counter.slot), .int(Int64(counter.total)))
            }
            try db.execute("DELETE FROM counters")
        }
    }

    /// The calls counted and not yet in a report, by service and route (sorted), and the counters whose
    /// totals grew.
    private func unreportedCounts(_ db: Transaction) throws -> ([CallCount], [CounterFile.Counter]) {
        // Totals remembered for another counter file (one made anew) do not apply to this one.
        let identity = try db.query("SELECT value FROM meta WHERE key = 'counter_file'").first?.text("value")
        var reported: [Int: UInt64] = [:]
        if identity == counterFile.identity {
            for row in try db.query("SELECT lane, slot, reported FROM counter_marks") {
                reported[Int(try row.integer("lane")) << 32 | Int(try row.integer("slot"))] = UInt64(
                    try row.integer("reported"))
            }
        }
        var sums: [CounterKey: Int64] = [:]
        var changed: [CounterFile.Counter] = []
        for counter in counterFile.counters() {
            let already = reported[counter.lane << 32 | counter.slot] ?? 0
            guard counter.total > already else { continue }
            sums[counter.key, default: 0] += Int64(counter.total - already)
            changed.append(counter)
        }
        for row in try db.query("SELECT * FROM counters WHERE count > 0") {
            sums[CounterKey(group: try row.text("service_id"), name: try row.text("route_id")), default: 0] +=
                try row.integer("count")
        }
        let counts = sums.map { CallCount(serviceID: $0.key.group, routeID: $0.key.name, count: $0.value) }
            .sorted { ($0.serviceID, $0.routeID) < ($1.serviceID, $1.routeID) }
        return (counts, changed)
    }

    /// The reports the geo has not acknowledged yet, oldest first.
    func pendingReports(nodeID: String) throws -> [DataPlaneUsageReport] {
        try database.read { db in
            try db.query("SELECT * FROM outbox ORDER BY seq").map { row in
                let seq = try row.integer("seq")
                // The report as it will be sent: the geo's decoder reads the stored counts.
                return try DataPlaneUsageReport(
                    json: ["node_id": .string(nodeID), "seq": .int(seq), "counts": try row.document("counts")])
            }
        }
    }

    /// Deletes a report the geo acknowledged.
    func acknowledge(_ seq: Int64) throws {
        try database.write { db in try db.execute("DELETE FROM outbox WHERE seq = ?", .int(seq)) }
    }

    /// Calls counted and not in a report yet, plus one per pending report (for `dp status`).
    func unreported() throws -> Int64 {
        try database.read { db in
            let (counts, _) = try unreportedCounts(db)
            return counts.reduce(0) { $0 + $1.count }
                + (try db.query("SELECT COUNT(*) AS n FROM outbox").first?.integer("n") ?? 0)
        }
    }
}
