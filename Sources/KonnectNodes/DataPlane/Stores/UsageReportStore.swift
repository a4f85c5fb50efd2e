import KonnectCore
import KonnectStorage

/// A data plane's `usage.sqlite` (B3): call counters per service and route, and the numbered reports
/// made from them, kept until the geo acknowledges each. `synchronous=NORMAL`: a count survives a
/// process crash (not a power loss), and costs no fsync per proxied request.
struct UsageReportStore: Sendable {
    let database: Database

    static let migrations = [
        Migration(
            version: 1,
            sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE counters (service_id TEXT NOT NULL, route_id TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (service_id, route_id));
                CREATE TABLE outbox (seq INTEGER PRIMARY KEY, counts TEXT NOT NULL);
                """)
    ]

    init(path: String) throws {
        database = try Database(path: path, migrations: UsageReportStore.migrations, durability: .normal)
    }

    /// Counts one proxied call.
    func count(serviceID: String, routeID: String) throws {
        try database.write { db in
            try db.execute(
                "INSERT INTO counters(service_id, route_id, count) VALUES (?, ?, 1) ON CONFLICT(service_id, route_id) DO UPDATE SET count = count + 1",
                .text(serviceID), .text(routeID))
        }
    }

    /// Turns the counters into the next numbered report and clears them, in one transaction; nothing
    /// when no call was counted. A report keeps its number across crashes and retries.
    func closeReport() throws {
        try database.write { db in
            let counts = try db.query("SELECT * FROM counters WHERE count > 0").map {
                CallCount(
                    serviceID: try $0.text("service_id"), routeID: try $0.text("route_id"),
                    count: try $0.integer("count"))
            }
            guard !counts.isEmpty else { return }
            let last = try db.query("SELECT value FROM meta WHERE key = 'seq'").first?.text("value")
            let seq = (last.flatMap { Int64($0) } ?? 0) + 1
            try db.execute(
                "INSERT INTO outbox(seq, counts) VALUES (?, ?)", .int(seq), .text(JSON.array(counts.map(\.json)).text))
            try db.execute(
                "INSERT INTO meta(key, value) VALUES ('seq', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                .text(String(seq)))
            try db.execute("DELETE FROM counters")
        }
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

    /// Calls counted and not yet acknowledged: counters plus one per pending report (for `dp status`).
    func unreported() throws -> Int64 {
        try database.read { db in
            (try db.query("SELECT COALESCE(SUM(count), 0) AS n FROM counters").first?.integer("n") ?? 0)
                + (try db.query("SELECT COUNT(*) AS n FROM outbox").first?.integer("n") ?? 0)
        }
    }
}
