import KonnectStorage

/// The last usage record number applied per geo (`usage_receipts`): a record at or below it was
/// counted already (B3: exactly once).
struct UsageReceiptStore {
    func lastApplied(_ db: Transaction, geo: String) throws -> Int64 {
        try db.query("SELECT last_seq FROM usage_receipts WHERE geo = ?", .text(geo)).first?.int("last_seq") ?? 0
    }

    func setLastApplied(_ work: UnitOfWork, geo: String, seq: Int64) throws {
        try work.tx.execute(
            "INSERT INTO usage_receipts(geo, last_seq) VALUES (?, ?) ON CONFLICT(geo) DO UPDATE SET last_seq = excluded.last_seq",
            .text(geo), .int(seq))
    }
}
