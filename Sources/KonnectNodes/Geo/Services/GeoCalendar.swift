import KonnectCore
import KonnectStorage
import Synchronization

/// The calendar moment last heard from the auth node (introspection answers, the event feed). Kept in
/// memory and written behind, so a request never writes it; a restarted geo starts from the last one
/// written (the next answer from the auth node brings the current one).
final class GeoCalendar: Sendable {
    private let moment: Mutex<SimTime>
    let writes: WriteBehind<String, SimTime>

    init(meta: GeoMetaStore) throws {
        moment = Mutex(try meta.lastKnownNow() ?? .defaultStart)
        writes = WriteBehind(
            name: "calendar moment", database: meta.database.database, interval: .seconds(1),
            log: { Log.warning($0) },
            persist: { transaction, moments in
                for moment in moments.values { try meta.setLastKnownNow(moment, in: transaction) }
            })
    }

    var now: SimTime { moment.withLock { $0 } }

    /// Remembers a moment the auth node reported, if it is later than the one known.
    func note(_ reported: SimTime) {
        moment.withLock { known in
            guard reported > known else { return }
            known = reported
            // Under the lock, so a later moment is never overwritten by an earlier one noted concurrently.
            writes.record(reported, for: "last_known_now")
        }
    }
}
