import KonnectCore
import KonnectHTTP
import KonnectStorage
import Synchronization

/// What a subscriber does with what the control plane pushes.
struct SubscriberHooks: Sendable {
    /// Applies a configuration atomically (swap + disk cache). Called only for new versions.
    var apply: @Sendable (_ configuration: SyncedConfiguration) -> Void
    /// Reports the running hash to the control plane.
    var ping: @Sendable () -> Void
}

/// The receiving side of configuration push, shared by data planes and Mesh zones: keeps a stream to
/// the geo open, decodes each `SyncMessage` line and feeds it to the `DataPlaneMachine`, persists the
/// orphaned state, and reconnects with backoff and jitter when the control plane cannot be reached or
/// sends a line this node does not understand (C2, D5, D6).
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
    private let label: String
    private let log: LoopLog

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

    private var isStopping: Bool { stopping.withLock { $0 } }

    private func run() {
        while !isStopping {
            let outcome = connectOnce()
            if isStopping { break }
            carryOut(machine.withLock { $0.onConnectionLost(outcome) })
        }
    }

    /// One connection; returns why it ended.
    private func connectOnce() -> String {
        let opened: HTTPStream
        do {
            opened = try client.openStream("GET", path, headers: headers())
        } catch {
            return error.description
        }
        stream.withLock { $0 = opened }
        defer {
            stream.withLock { $0 = nil }
            opened.close()
        }
        switch opened.awaitHead(timeoutMilliseconds: ConfigSubscriber.silenceMilliseconds) {
        case .failure(let error): return error.description
        case .success(let status):
            guard status == 200 else {
                return
                    "the control plane refused the connection (\(status)): \(String(decoding: opened.errorBody.prefix(300), as: UTF8.self))"
            }
        }
        machine.withLock { $0.onConnected() }
        log.succeeded()
        while !isStopping {
            switch opened.next(timeoutMilliseconds: ConfigSubscriber.silenceMilliseconds) {
            case .timeout: return "no message from the control plane for \(ConfigSubscriber.silenceMilliseconds) ms"
            case .closed(let why): return why
            case .message(let json):
                do {
                    handle(try SyncMessage(json: json))
                } catch {
                    // Never guessed at: a newer or broken control plane is retried until it sends what this node reads.
                    Log.error("the control plane sent a message this \(label) does not understand: \(error)")
                    return "the control plane sent a message this \(label) does not understand (\(error))"
                }
            }
        }
        return "stopping"
    }

    private func handle(_ message: SyncMessage) {
        switch message {
        case .configuration(let configuration):
            let directives = machine.withLock {
                $0.onConfiguration(version: configuration.version, hash: configuration.hash)
            }
            if directives.contains(.applyConfiguration(version: configuration.version, hash: configuration.hash)) {
                hooks.apply(configuration)
            }
            lastSync.withLock { $0 = calendarNow.withLock { $0 }?.iso8601 }
            carryOut(directives)
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
    }

    private func carryOut(_ directives: [DataPlaneDirective]) {
        for directive in directives {
            switch directive {
            case .applyConfiguration:
                break  // done in `handle`, which has the configuration
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
            }
        }
    }
}

/// Why a sync stream ended, as the subscriber's loop log reports it.
struct SyncConnectionLost: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
