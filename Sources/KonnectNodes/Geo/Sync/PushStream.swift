import KonnectCore
import KonnectHTTP
import Synchronization

/// Where a control plane (or Mesh global control plane) stands for its subscribers.
enum SyncState: Equatable, Sendable {
    case active(version: Int64)
    case decommissioned(reason: String)
    case deleted
}

/// What one push stream serves: whether the subscriber's credential still holds, where the control
/// plane stands, and the configuration message for a version.
struct SyncSubscription: Sendable {
    var stillAuthorized: @Sendable () throws -> Bool
    var state: @Sendable () throws -> SyncState
    /// The `SyncMessage` line of the configuration at a version (or a newer one).
    var configuration: @Sendable (Int64) throws -> [UInt8]
    var closed: @Sendable () -> Void = {}
}

/// The sending side of configuration push, shared by data planes and Mesh zones (C2, D5): a chunked
/// stream of `SyncMessage` lines: the full configuration on connect and after every change,
/// `decommissioned` while the control plane is, and a heartbeat every second so a frozen geo is
/// noticed. Ends when the peer leaves, the credential is revoked, the control plane is deleted, the
/// geo cannot read its database (the subscriber reconnects), or the geo shuts down.
///
/// A stream holds no thread while it waits: each turn runs on a worker when `wakeups` fires or a second
/// has passed, then waits again (`Signal.whenChanged`); the server sends what it writes.
struct PushStream: Sendable {
    /// Fired by `GeoWakeups` when anything a stream serves may have changed.
    let wakeups: Signal
    let stop: StopFlag
    /// Heartbeats carry the calendar's moment, so subscribers show simulated times.
    let calendar: GeoCalendar

    func response(_ subscription: SyncSubscription) -> HTTPResponse {
        HTTPResponse(
            status: 200, headers: ["Content-Type": "application/x-ndjson"],
            body: .push { [self] writer in
                let feed = PushFeed(
                    subscription: subscription, writer: writer, wakeups: wakeups, stop: stop, calendar: calendar)
                writer.onClose { subscription.closed() }
                feed.start()
            })
    }
}

/// One subscriber's stream: what was sent, and one turn of sending at a time (each turn schedules the
/// next one, so turns never overlap).
final class PushFeed: Sendable {
    private struct Sent {
        var version: Int64? = nil
        var decommission: String? = nil
        var failedVersion: Int64? = nil
        /// The calendar's moment the subscriber last heard: sent first, and again before a
        /// configuration whenever it moved, so the subscriber stamps what it receives with the moment it
        /// arrived.
        var moment: SimTime? = nil
    }

    private let subscription: SyncSubscription
    private let writer: StreamWriter
    private let wakeups: Signal
    private let stop: StopFlag
    private let calendar: GeoCalendar
    private let sent = Mutex(Sent())

    init(subscription: SyncSubscription, writer: StreamWriter, wakeups: Signal, stop: StopFlag, calendar: GeoCalendar) {
        self.subscription = subscription
        self.writer = writer
        self.wakeups = wakeups
        self.stop = stop
        self.calendar = calendar
    }

    /// The calendar's moment first, then the first turn.
    func start() {
        guard heartbeat() else {
            writer.finish()
            return
        }
        turn()
    }

    /// Sends a heartbeat with the calendar's moment now; false when the subscriber is gone.
    private func heartbeat() -> Bool {
        let moment = calendar.now
        sent.withLock { $0.moment = moment }
        return writer.write(SyncMessage.heartbeat(now: moment).line)
    }

    /// Sends what changed since the last turn, then waits (without a thread) for a change or a second.
    func turn() {
        guard writer.isOpen && !stop.isStopping else {
            writer.finish()
            return
        }
        let generation = wakeups.current
        switch step() {
        case .end:
            writer.finish()
        case .again:
            WorkerPool.shared.submit(priority: true) { [self] in turn() }
        case .wait:
            wakeups.whenChanged(after: generation, timeoutMilliseconds: 1000) { [self] changed in
                if !changed && !heartbeat() {
                    writer.finish()
                    return
                }
                turn()
            }
        }
    }

    private enum Next { case wait, again, end }

    private func step() -> Next {
        let current: SyncState
        do {
            current = try subscription.state()
            let authorized = try current == .deleted || subscription.stillAuthorized()
            guard authorized else {
                writer.write(SyncMessage.unauthorized(reason: "the credential was revoked").line)
                return .end
            }
        } catch {
            Log.error("a push stream ends: cannot read its control plane (\(error)); the subscriber reconnects")
            return .end
        }
        switch current {
        case .deleted:
            writer.write(SyncMessage.decommissioned(reason: "the control plane was deleted").line)
            return .end
        case .decommissioned(let reason):
            if sent.withLock({ $0.decommission }) != reason {
                guard writer.write(SyncMessage.decommissioned(reason: reason).line) else { return .end }
                sent.withLock {
                    $0.decommission = reason
                    $0.version = nil
                }
            }
        case .active(let version):
            let (sentVersion, sentDecommission, failedVersion) = sent.withLock {
                ($0.version, $0.decommission, $0.failedVersion)
            }
            if sentVersion != version || sentDecommission != nil {
                let line: [UInt8]
                do {
                    line = try subscription.configuration(version)
                } catch {
                    // Deleted meanwhile: the next turn says so. Failing twice ends the stream.
                    guard failedVersion == version else {
                        sent.withLock { $0.failedVersion = version }
                        return .again
                    }
                    Log.error(
                        "a push stream ends: cannot build configuration version \(version) (\(error)); the subscriber reconnects"
                    )
                    return .end
                }
                let moment = calendar.now
                if sent.withLock({ $0.moment }) != moment {
                    guard heartbeat() else { return .end }
                }
                guard writer.write(line) else { return .end }
                sent.withLock {
                    $0.failedVersion = nil
                    $0.version = version
                    $0.decommission = nil
                }
            }
        }
        return .wait
    }
}
