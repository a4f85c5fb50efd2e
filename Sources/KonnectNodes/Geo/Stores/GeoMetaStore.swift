import KonnectCore
import KonnectStorage

/// The geo's own bookkeeping in `meta`: the cursor of the auth node's event feed (D4) and the last
/// calendar moment heard from the auth node. (The seeded id counter is kept there by `IdentifierSource`.)
struct GeoMetaStore: Sendable {
    let database: GeoDatabase

    /// The sequence number of the last auth-node event this geo applied.
    func eventCursor(in context: (any GeoReading)? = nil) throws -> Int64 {
        try database.reading(context) { db in try value(db, "events_cursor").flatMap { Int64($0) } ?? 0 }
    }

    func setEventCursor(_ seq: Int64, in work: GeoWork) throws {
        try set(work.transaction, "events_cursor", String(seq))
    }

    /// The last calendar moment heard from the auth node, or nil before the first answer.
    func lastKnownNow() throws -> SimTime? {
        try database.reading(nil) { db in try value(db, "last_known_now").flatMap { Int64($0) } }
            .map { SimTime(seconds: $0) }
    }

    func setLastKnownNow(_ moment: SimTime, in transaction: Transaction) throws {
        try set(transaction, "last_known_now", String(moment.seconds))
    }

    private func value(_ db: Transaction, _ key: String) throws -> String? {
        try db.query("SELECT value FROM meta WHERE key = ?", .text(key)).first?.string("value")
    }

    private func set(_ db: Transaction, _ key: String, _ value: String) throws {
        try db.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            .text(key), .text(value))
    }
}
