import KonnectCore
import KonnectStorage

/// The events every geo applies exactly once, in order (`outbox`, D4). Appending records an effect,
/// so geos waiting for events wake once the unit of work has committed.
struct OutboxStore {
    /// Appends an event; the geos hear of it after the commit.
    func append(_ work: UnitOfWork, _ kind: OutboxEvent.Kind, organizationID: String, at moment: SimTime) throws {
        try work.tx.execute(
            "INSERT INTO outbox(kind, org_id, payload, created_at) VALUES (?, ?, ?, ?)", .text(kind.name),
            .text(organizationID), .text(kind.payload.text), .time(moment))
        work.record(.outboxAppended(seq: work.tx.lastInsertRowID))
    }

    /// Up to `limit` events after `seq`, in order. A stored event that does not decode is an error
    /// (never skipped: a geo would miss it for good).
    func events(_ db: Transaction, after seq: Int64, limit: Int) throws -> [OutboxEvent] {
        var events: [OutboxEvent] = []
        for row in try db.query(
            "SELECT seq, kind, org_id, payload, created_at FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?", .int(seq),
            .int(limit))
        {
            let kind = try OutboxEvent.Kind(name: row.string("kind") ?? "", payload: row.json("payload"))
            events.append(
                OutboxEvent(
                    seq: row.int("seq") ?? 0, organizationID: row.string("org_id") ?? "",
                    at: row.time("created_at") ?? SimTime(seconds: 0), kind: kind))
        }
        return events
    }

    /// The purge event of every organization still `deleting` (A5), with the moment it was issued:
    /// once every geo's cursor passed it, the purge is confirmed.
    func pendingPurges(_ db: Transaction) throws -> [(organizationID: String, seq: Int64, at: SimTime)] {
        try db.query(
            "SELECT o.id, e.seq, e.created_at FROM organizations o JOIN outbox e ON e.org_id = o.id AND e.kind = ? WHERE o.state = ?",
            .text(OutboxEvent.Kind.deleted.name), .text(OrganizationState.deleting.rawValue)
        ).map { ($0.string("id") ?? "", $0.int("seq") ?? .max, $0.time("created_at") ?? SimTime(seconds: 0)) }
    }

    /// The number of the last event appended (0 for none).
    func lastSeq(_ db: Transaction) throws -> Int64 {
        try db.query("SELECT COALESCE(MAX(seq), 0) AS n FROM outbox").first?.int("n") ?? 0
    }
}
