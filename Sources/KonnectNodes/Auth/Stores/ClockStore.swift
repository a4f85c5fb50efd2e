import KonnectCore
import KonnectStorage

/// The simulated calendar's moment (B1), and the target of a move in progress, so that a move a crash
/// interrupted is finished at the next start.
struct ClockStore {
    struct Stored {
        var now: SimTime
        /// Where an interrupted move was going; nil when no move is in progress.
        var target: SimTime?
    }

    /// The stored clock, or nil on a fresh database.
    func clock(_ db: Transaction) throws -> Stored? {
        guard let row = try db.query("SELECT now, target FROM clock WHERE id = 1").first, let now = row.time("now")
        else { return nil }
        return Stored(now: now, target: row.time("target"))
    }

    /// Starts the calendar of a fresh database.
    func start(_ work: UnitOfWork, at moment: SimTime) throws {
        try work.tx.execute("INSERT INTO clock(id, now) VALUES (1, ?)", .time(moment))
        work.record(.calendarMoved(to: moment))
    }

    /// Records where a move is going before it starts.
    func beginMove(_ work: UnitOfWork, to target: SimTime) throws {
        try work.tx.execute("UPDATE clock SET target = ? WHERE id = 1", .time(target))
    }

    /// Moves `now` to the last moment a batch of due events reached.
    func advance(_ work: UnitOfWork, to moment: SimTime) throws {
        try work.tx.execute("UPDATE clock SET now = ? WHERE id = 1", .time(moment))
        work.record(.calendarMoved(to: moment))
    }

    /// Ends a move at its target.
    func finishMove(_ work: UnitOfWork, at target: SimTime) throws {
        try work.tx.execute("UPDATE clock SET now = ?, target = NULL WHERE id = 1", .time(target))
        work.record(.calendarMoved(to: target))
    }
}
