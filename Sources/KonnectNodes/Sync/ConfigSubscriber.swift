import KonnectCore
import KonnectHTTP
import KonnectStorage
import Synchronization

/// What a subscriber does with what the control plane pushes.
struct SubscriberHooks: Sendable {
    /// Checks an update against what runs without changing anything; returns how to apply it, or why
    /// it cannot be applied (the subscriber then asks for the full configuration). `receivedAt` is the
    /// calendar's moment it arrived (as the geo's heartbeats tell it; empty before the first).
    var prepare:
        @Sendable (_ update: ConfigurationUpdate, _ receivedAt: String) -> Result<PreparedApply, ConfigurationError>
    /// Kong's hash of a version, sent after the delta that led to it.
    var hash: @Sendable (_ hash: SyncedHash) -> Void
    /// Reports the running hash to the control plane.
    var ping: @Sendable () -> Void
}

/// A verified update, ready to apply.
struct PreparedApply: Sendable {
    /// Whether it brings another license than the one that runs (applied even at the same version).
    var changesLicense: Bool
    /// Applies it atomically: the configuration, what is derived from it and the disk cache move together.
    var apply: @Sendable () throws(ConfigurationError) -> Void
}

/// The receiving side of configuration push, shared by data planes and Mesh zones: keeps a stream to
/// the geo open, saying which version it runs (`X-Config-Version`), decodes each `SyncMessage` line,
/// verifies configurations and deltas against what runs before they are applied, feeds them to the
/// `DataPlaneMachine`, persists the orphaned state, and reconnects with backoff and jitter when the
/// control plane cannot be reached or sends a line this node does not understand (C2, D5, D6). An
/// update that does not verify is logged and the node reconnects at once asking for the full
/// configuration, serving what runs meanwhile.
final class ConfigSubscriber: Sendable {
    let machine: Mutex<DataPlaneMachine>
    /// When the last configuration arrived, on the simulated calendar.
    let lastSync = Mutex<String?>(nil)
    /// The calendar's moment as the geo's heartbeats tell it (nil before the first).
    let calendarNow = Mutex<SimTime?>(nil)
    private let client: HTTPClient
    private let path: String
    private let headers: @Sendable () -> HTTPHeaders
    private let orphanState: OrphanStateStore
    private let hooks: SubscriberHooks
    private let stopping = Mutex(false)
    private let stream = Mutex<HTTPStream?>(nil)
    /// Why the next connection asks for the full configuration (an update did not verify); nil otherwise.
    private let wantsFull = Mutex<String?>(nil)
    private let label: String
    private let log: LoopLog
    /// Full resyncs asked for since the start (for status and tests).
    let resyncs = Mutex(0)

    /// A silent stream for this long means the control plane is unreachable (it sends a heartbeat every second).
    static let silenceMilliseconds = 3000

    init(
        label: String, client: HTTPClient, path: String, headers: @escaping @Sendable () -> HTTPHeaders,
        orphanState: OrphanStateStore, cachedVersion: Int64?, cachedHash: String?, cachedAt: String?, seed: UInt64,
        hooks: SubscriberHooks
    ) {
        self.label = label
        self.client = client
        self.path = path
        self.headers = headers
        self.orphanState = orphanState
        self.hooks = hooks
        log = LoopLog(loop: "\(label) sync")
        machine = Mutex(
            DataPlaneMachine(
                cachedVersion: cachedVersion, cachedHash: cachedHash, orphanReason: orphanState.load(), seed: seed))
        lastSync.withLock { $0 = cachedAt }
    }

    func start() { spawnThread(name: "\(label)-sync") { [self] in run() } }

    func stop() {
        stopping.withLock { $0 = true }
        // The sync thread owns the stream: wake it, it closes the descriptor itself.
        stream.withLock { $0?.interrupt() }
    }

    /// Asks for the full configuration (something that runs does not verify): the stream ends and
    /// the node reconnects at once.
    func resync(_ reason: String) {
        wantsFull.withLock { $0 = reason }
        resyncs.withLock { $0 += 1 }
        stream.withLock { $0?.interrupt() }
    }

    private var isStopping: Bool { stopping.withLock { $0 } }

    private enum Ended {
        case lost(String)
        case resync
    }

    private func run() {
        while !isStopping {
            let outcome = connectOnce()
            if isStopping { break }
            switch outcome {
            case .resync:
                continue
            case .lost(let reason):
                carryOut(machine.withLock { $0.onConnectionLost(reason) })
            }
        }
    }

    /// One connection; returns why it ended.
    private func connectOnce() -> Ended {
        var requestHeaders = headers()
        let resyncsBefore = resyncs.withLock { $0 }
        if wantsFull.withLock({ $0 }) == nil, let version = machine.withLock({ $0.version }) {
            requestHeaders.set("X-Config-Version", String(version))
        }
        let opened: HTTPStream
        do {
            opened = try client.openStream("GET", path, headers: requestHeaders)
        } catch {
            return .lost(error.description)
        }
        stream.withLock { $0 = opened }
        defer {
            stream.withLock { $0 = nil }
            opened.close()
        }
        switch opened.awaitHead(timeoutMilliseconds: ConfigSubscriber.silenceMilliseconds) {
        case .failure(let error): return .lost(error.description)
        case .success(let status):
            guard status == 200 else {
                return .lost(
                    "the control plane refused the connection (\(status)): \(String(decoding: opened.errorBody.prefix(300), as: UTF8.self))"
                )
            }
        }
        machine.withLock { $0.onConnected() }
        log.succeeded()
        var assembly = ConfigurationAssembly()
        while !isStopping {
            // Asked (by this thread or the hash audit) to start over with the full configuration.
            if resyncs.withLock({ $0 }) != resyncsBefore { return .resync }
            switch opened.next(timeoutMilliseconds: ConfigSubscriber.silenceMilliseconds) {
            case .timeout:
                return .lost("no message from the control plane for \(ConfigSubscriber.silenceMilliseconds) ms")
            case .closed(let why):
                if resyncs.withLock({ $0 }) != resyncsBefore { return .resync }
                return .lost(why)
            case .message(let json):
                do {
                    if handle(try SyncMessage(json: json), assembly: &assembly) {
                        // The parsed configuration is gone once applied: its memory goes back to the system.
                        MemoryRelease.returnFreedMemory()
                    }
                } catch {
                    // Never guessed at: a newer or broken control plane is retried until it sends what this node reads.
                    Log.error("the control plane sent a message this \(label) does not understand: \(error)")
                    return .lost("the control plane sent a message this \(label) does not understand (\(error))")
                }
            }
        }
        return .lost("stopping")
    }

    /// Handles one message; true when it completed a full configuration.
    private func handle(_ message: SyncMessage, assembly: inout ConfigurationAssembly) -> Bool {
        if assembly.isAssembling {
            switch message {
            case .configurationPart, .heartbeat: break
            default: assembly.reset()
            }
        }
        do {
            switch message {
            case .configuration(let configuration):
                guard let complete = try assembly.onConfiguration(configuration) else { return false }
                update(.full(complete.configuration, items: complete.items))
                return true
            case .configurationPart(let part):
                guard let complete = try assembly.onPart(part) else { return false }
                update(.full(complete.configuration, items: complete.items))
                return true
            default:
                break
            }
        } catch {
            Log.error("\(label): \(error); asking for the full configuration")
            carryOut(machine.withLock { $0.onVerificationFailed(error.description) })
            return false
        }
        switch message {
        case .configuration, .configurationPart:
            break
        case .delta(let delta):
            update(.delta(delta))
        case .hash(let hash):
            hooks.hash(hash)
            carryOut(machine.withLock { $0.onHash(version: hash.version, hash: hash.hash) })
        case .decommissioned(let reason):
            let directives = machine.withLock { $0.onDecommissioned(reason: reason) }
            if !directives.isEmpty {
                Log.warning("control plane decommissioned: \(reason); keeping the last configuration, no more updates")
            }
            carryOut(directives)
        case .unauthorized(let reason):
            Log.warning("the control plane no longer accepts this node's credential: \(reason)")
        case .heartbeat(let now):
            if let now { calendarNow.withLock { $0 = now } }
        }
        return false
    }

    /// Verifies an update against what runs, lets the machine decide, applies it when the machine says
    /// so (or when only its license is new).
    private func update(_ update: ConfigurationUpdate) {
        let prepared: PreparedApply
        switch hooks.prepare(update, calendarNow.withLock { $0 }?.iso8601 ?? "") {
        case .failure(let error):
            Log.error("\(label): \(error); asking for the full configuration")
            carryOut(machine.withLock { $0.onVerificationFailed(error.description) })
            return
        case .success(let ready):
            prepared = ready
        }
        let directives: [DataPlaneDirective]
        switch update {
        case .full(let configuration, _):
            directives = machine.withLock {
                $0.onConfiguration(version: configuration.version, hash: configuration.hash)
            }
        case .delta(let delta):
            directives = machine.withLock {
                $0.onDelta(from: delta.fromVersion, version: delta.version, hash: delta.hash)
            }
        }
        let applies = directives.contains { if case .applyConfiguration = $0 { true } else { false } }
        if applies
            || (prepared.changesLicense
                && !directives.contains(where: { if case .resync = $0 { true } else { false } }))
        {
            do {
                try prepared.apply()
            } catch {
                Log.error("\(label): \(error); asking for the full configuration")
                carryOut(machine.withLock { $0.onVerificationFailed(error.description) })
                return
            }
        }
        if case .full = update { wantsFull.withLock { $0 = nil } }
        lastSync.withLock { $0 = calendarNow.withLock { $0 }?.iso8601 }
        carryOut(directives)
    }

    private func carryOut(_ directives: [DataPlaneDirective]) {
        for directive in directives {
            switch directive {
            case .applyConfiguration:
                break  // done in `update`, which has the configuration
            case .persistOrphaned(let reason):
                do {
                    try orphanState.save(reason: reason)
                } catch {
                    Log.error(
                        "cannot persist the orphaned state (\(reason ?? "not orphaned")): \(error); a restart may not remember it"
                    )
                }
            case .ping:
                hooks.ping()
            case .reconnect(let delay):
                let reason = machine.withLock { $0.lastError } ?? "the connection ended"
                log.failed(
                    SyncConnectionLost(reason: reason),
                    next: "serving the cached configuration, reconnecting in \(delay) ms")
                sleepMilliseconds(delay)
            case .resync(let reason):
                resync(reason)
            }
        }
    }
}

/// Why a sync stream ended, as the subscriber's loop log reports it.
struct SyncConnectionLost: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
