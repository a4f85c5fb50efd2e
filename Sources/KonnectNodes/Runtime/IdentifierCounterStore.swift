import KonnectStorage

/// The seeded id counter of a node (the `meta` table's `id_counter`), so that a restarted node never
/// repeats an id.
struct IdentifierCounterStore {
    /// The next counter value to use (0 on a fresh database).
    func counter(_ db: Transaction) throws -> Int64 {
        guard case .text(let text) = try db.scalar("SELECT value FROM meta WHERE key = 'id_counter'") else { return 0 }
        return Int64(text) ?? 0
    }

    func store(_ db: Transaction, _ value: Int64) throws {
        try db.execute(
            "INSERT INTO meta(key, value) VALUES ('id_counter', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            .text(String(value)))
    }
}
