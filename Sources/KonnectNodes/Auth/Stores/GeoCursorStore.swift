import KonnectCore
import KonnectStorage

/// How far each geo has applied the outbox (`geo_cursors`): the `after` of its last poll (D4).
struct GeoCursorStore {
    /// Records a geo's acknowledgement; a cursor never moves back.
    func acknowledge(_ work: UnitOfWork, geo: String, through seq: Int64, at moment: SimTime) throws {
        try work.tx.execute(
            "INSERT INTO geo_cursors(geo, cursor, seen_at) VALUES (?, ?, ?) ON CONFLICT(geo) DO UPDATE SET cursor = MAX(cursor, excluded.cursor), seen_at = excluded.seen_at",
            .text(geo), .int(seq), .time(moment))
    }

    /// Each geo's cursor (geos that never polled are absent).
    func cursors(_ db: Transaction) throws -> [String: Int64] {
        var cursors: [String: Int64] = [:]
        for row in try db.query("SELECT geo, cursor FROM geo_cursors") {
            cursors[row.string("geo") ?? ""] = row.int("cursor") ?? 0
        }
        return cursors
    }
}
