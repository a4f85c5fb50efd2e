import KonnectCore
import KonnectHTTP
import Synchronization

/// Where a control plane (or Mesh global control plane) stands for its subscribers.
enum SyncState: Equatable, Sendable {
    /// Commissioned, at a configuration version, with the organization's license (P4).
    case active(version: Int64, license: JSON)
    case decommissioned(reason: String)
    case deleted
}

/// What one push stream serves: whether the subscriber's credential still holds, where the control
/// plane stands, and the message that brings the subscriber from the version it runs to the latest.
struct SyncSubscription: Sendable {
    /// The version the subscriber said it runs when it connected (nil: none, or it wants everything).
    var subscriberVersion: Int64?
    var stillAuthorized: @Sendable () throws -> Bool
    var state: @Sendable () throws -> SyncState
    /// The message from a version the subscriber runs (nil: nothing) to the latest one.
    var update: @Sendable (_ from: Int64?) throws -> SyncUpdate
    /// The hash message of a version a delta led to: ready, pending (the streams are woken when it is
    /// computed), or superseded by a later version.
    var hash: @Sendable (_ version: Int64) throws -> HashMessage
    var closed: @Sendable () -> Void = {}
}

/// What the geo's push streams have sent: configuration messages (full or delta) and their bytes.
final class PushCounters: Sendable {
    let fullMessages = Atomic<Int>(0)
    let deltaMessages = Atomic<Int>(0)
    let hashMessages = Atomic<Int>(0)
    let bytes = Atomic<Int>(0)

    func count(_ update: SyncUpdate) {
        if update.isHash {
            hashMessages.add(1, ordering: .relaxed)
        } else if update.isDelta {
            deltaMessages.add(1, ordering: .relaxed)
        } else {
            fullMessages.add(1, ordering: .relaxed)
        }
        bytes.add(update.bytes, ordering: .relaxed)
    }

    var json: JSON {
        [
            "full_messages": .int(fullMessages.load(ordering: .relaxed)),
            "delta_messages": .int(deltaMessages.load(ordering: .relaxed)),
            "hash_messages": .int(hashMessages.load(ordering: .relaxed)),
            "configuration_bytes": .int(bytes.load(ordering: .relaxed)),
        ]
    }
}

/// The sending side of configuration push, shared by data planes and Mesh zones (C2, D5): a chunked
/// stream of `SyncMessage` lines: on connect, the full configuration, or the changes since the version
/// the subscriber says it runs (nothing changed: an empty delta, so it knows it is up to date); after
/// every change, the changes since what it was sent; `decommissioned` while the control plane is; and
/// a heartbeat every second so a frozen geo is noticed. A subscriber that cannot apply a delta
/// reconnects asking for everything. Ends when the peer leaves, the credential is revoked, the control
/// plane is deleted, the geo cannot read its database (the subscriber reconnects), or the geo shuts down.
///
/// A stream holds no thread while it waits: each turn runs on a worker when `wakeups` fires or a second
/// has passed, then waits again (`Signal.whenChanged`); the server sends what it writes.
struct PushStream: Sendable {
    /// Fired by `GeoWakeups` when anything a stream serves may have changed.
    let wakeups: Signal
    let stop: StopFlag
    /// Heartbeats carry the calendar's moment, so subscribers show simulated times.
    let calendar: GeoCalendar
    let counters: PushCounters

    func response(_ subscription: SyncSubscription) -> HTTPResponse {
        HTTPResponse(
            status: 200, headers: ["Content-Type": "application/x-ndjson"],
            body: .push { [self] writer in
                let feed = PushFeed(
                    subscription: subscription, writer: writer, wakeups: wakeups, stop: stop, calendar: calendar,
                    counters: counters)
                writer.onClose { subscription.closed() }
                feed.start()
            })
    }
}

/// One subscriber's stream: what it was sent, and one turn of sending at a time (each turn schedules the
/// next one, so turns never overlap).
final class PushFeed: Sendable {
    private struct Sent {
        /// What the subscriber runs, as far as this stream knows.
        var runs: Int64?
        /// The license it was last sent; nil until a configuration message went out.
        var license: JSON? = nil
        /// The version a delta led to whose hash is still to be sent.
        var hashPending: Int64? = nil
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
    private let counters: PushCounters
    private let sent: Mutex<Sent>

    init(
        subscription: SyncSubscription, writer: StreamWriter, wakeups: Signal, stop: StopFlag, calendar: GeoCalendar,
        counters: PushCounters
    ) {
        self.subscription = subscription
        self.writer = writer
        self.wakeups = wakeups
        self.stop = stop
        self.calendar = calendar
        self.counters = counters
        sent = Mutex(Sent(runs: subscription.subscriberVersion))
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
        switch step(generation: generation) {
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

    /// One turn: `generation` is the wake-ups' generation it started at (a hash waits while a newer change
    /// is already on its way).
    private func step(generation: UInt64) -> Next {
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
        // Turns never overlap: this turn owns what was sent until it stores it back.
        var sent = self.sent.withLock { $0 }
        defer { self.sent.withLock { [sent] in $0 = sent } }
        switch current {
        case .deleted:
            writer.write(SyncMessage.decommissioned(reason: "the control plane was deleted").line)
            return .end
        case .decommissioned(let reason):
            if sent.decommission != reason {
                guard writer.write(SyncMessage.decommissioned(reason: reason).line) else { return .end }
                sent.decommission = reason
                sent.license = nil
            }
        case .active(let version, let license):
            // A state read before the last update may be older than what was sent: never go back.
            let behind = sent.runs.map { $0 < version } ?? true
            if behind || sent.license != license || sent.decommission != nil {
                let update: SyncUpdate
                do {
                    update = try subscription.update(sent.runs)
                } catch {
                    // Deleted meanwhile: the next turn says so. Failing twice ends the stream.
                    guard sent.failedVersion == version else {
                        sent.failedVersion = version
                        return .again
                    }
                    Log.error(
                        "a push stream ends: cannot build configuration version \(version) (\(error)); the subscriber reconnects"
                    )
                    return .end
                }
                let moment = calendar.now
                if sent.moment != moment {
                    sent.moment = moment
                    guard writer.write(SyncMessage.heartbeat(now: moment).line) else { return .end }
                }
                for line in update.lines {
                    guard writer.write(line) else { return .end }
                }
                counters.count(update)
                if update.bytes >= MemoryRelease.threshold { MemoryRelease.returnFreedMemory() }
                sent.failedVersion = nil
                sent.runs = update.version
                sent.hashPending = update.hashFollows ? update.version : nil
                sent.license = license
                sent.decommission = nil
            }
            // The hash follows the delta once the hasher built it, unless another change is already
            // waiting: then the next delta supersedes it (latest version only).
            if let pending = sent.hashPending, wakeups.current == generation {
                do {
                    switch try subscription.hash(pending) {
                    case .ready(let message):
                        for line in message.lines {
                            guard writer.write(line) else { return .end }
                        }
                        counters.count(message)
                        sent.hashPending = nil
                    case .superseded:
                        sent.hashPending = nil
                    case .pending:
                        break
                    }
                } catch {
                    Log.error(
                        "a push stream cannot send the hash of version \(pending): \(error); it follows the next change"
                    )
                    sent.hashPending = nil
                }
            }
        }
        return .wait
    }
}
