import KonnectCore
import KonnectHTTP
import Synchronization

/// A committed change of the auth node that someone waits for.
enum AuthEffect: Sendable, Hashable {
    /// An event was appended to the outbox: geos long-polling for events wake up (D4).
    case outboxAppended(seq: Int64)
    /// The calendar moved (a batch of a move, or its end): the node's clock mirror follows (B1).
    case calendarMoved(to: SimTime)
}

/// The effect path of the auth node: turns the effects a committed unit of work recorded into
/// wake-ups. Nothing else updates the clock mirror or fires the outbox signal (except `stop`, which
/// ends long polls at shutdown).
final class AuthEffects: Sendable {
    /// Fired when the outbox grows, when the calendar moves (geos' long polls answer with the new
    /// moment), and at shutdown.
    let outboxGrew = Signal()
    let clock: CalendarClock
    private let stopping = Mutex(false)

    init(clock: CalendarClock) { self.clock = clock }

    /// Whether the node is shutting down (long polls answer at once).
    var isStopping: Bool { stopping.withLock { $0 } }

    /// Ends long polls so that a shutdown does not wait for them.
    func stop() {
        stopping.withLock { $0 = true }
        outboxGrew.fire()
    }

    func publish(_ effects: [AuthEffect]) {
        var outbox = false
        for effect in effects {
            switch effect {
            case .outboxAppended: outbox = true
            case .calendarMoved(let moment):
                clock.moved(to: moment)
                outbox = true
            }
        }
        if outbox { outboxGrew.fire() }
    }
}

/// The calendar's current moment, mirrored from the `clock` table so that every request reads it
/// without a query. Only committed moves change it (`AuthEffects.publish`).
final class CalendarClock: Sendable {
    private let moment: Mutex<SimTime>
    /// While a move runs: the last outbox event before it (`AuthCalendar.advance`).
    private let move = Mutex<Int64?>(nil)

    init(_ moment: SimTime) { self.moment = Mutex(moment) }

    var now: SimTime { moment.withLock { $0 } }

    /// While a move runs, the last outbox event before it: purges the move issued (later events) that
    /// geos confirm during the move are stamped with their own due moment, not the move's end (A5, B1).
    var moveStartedAfterEvent: Int64? { move.withLock { $0 } }

    func moveStarted(afterEvent seq: Int64) { move.withLock { $0 = seq } }
    func moveEnded() { move.withLock { $0 = nil } }

    fileprivate func moved(to target: SimTime) { moment.withLock { $0 = target } }
}
