import KonnectCore
import KonnectStorage

/// `usage_outbox`: usage records waiting for the auth node, numbered in the order they were queued
/// (B3). A record is queued in the transaction of the change it describes, so it is durable with it,
/// and deleted only once the auth node acknowledged its number.
struct UsageOutboxStore: Sendable {
    let database: GeoDatabase

    func queue(_ record: UsageRecord, in work: GeoWork) throws {
        try work.transaction.execute("INSERT INTO usage_outbox(record) VALUES (?)", .text(record.json.text))
        work.record(.usageQueued)
    }

    /// The oldest records, at most `limit`, with their numbers. A stored record that does not decode
    /// is an error (the auth node must not miss it), not a record to skip.
    func oldest(_ limit: Int) throws -> [NumberedUsageRecord] {
        try database.reading(nil) { db in
            try db.query("SELECT seq, record FROM usage_outbox ORDER BY seq LIMIT ?", .int(limit)).map { row in
                NumberedUsageRecord(
                    seq: try row.integer("seq"), record: try UsageRecord(json: try row.document("record")))
            }
        }
    }

    /// Deletes the records the auth node acknowledged.
    func acknowledge(through seq: Int64) throws {
        try database.write { work in
            try work.transaction.execute("DELETE FROM usage_outbox WHERE seq <= ?", .int(seq))
        }
    }

    func count() throws -> Int64 {
        try database.reading(nil) { db in
            try db.query("SELECT COUNT(*) AS n FROM usage_outbox").first?.integer("n") ?? 0
        }
    }
}
