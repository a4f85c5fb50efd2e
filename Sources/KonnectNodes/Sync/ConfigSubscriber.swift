import KonnectCore
import KonnectHTTP
import KonnectStorage
import Synchronization

/// What a subscriber does with what the control plane pushes.
struct SubscriberHooks: Sendable {
    /// Applies a configuration message atomically (swap + disk cache). Called only for new versions.
    var apply: @Sendable (_ message: JSON, _ version: Int64, _ hash: String) -> Void
    /// Reports the running hash to the control plane.
    var ping: @Sendable () -> Void
}

/// The receiving side of configuration push, shared by data planes and Mesh zones: keeps a stream to
/// the geo open, feeds what arrives to the `DataPlaneMachine`, persists the orphaned state, and
/// reconnects with backoff and jitter when the control plane cannot be reached (C2, D5, D6).
final class ConfigSubscriber: Sendable {
    let machine: Mutex<DataPlaneMachine>
    let lastSync = Mutex<String?>(nil)
    private let client: HTTPClient
    private let path: String
    private let headers: @Sendable () -> HTTPHeaders
    private let statePath: String
    private let hooks: SubscriberHooks
    private let stopping = Mutex(false)
    private let stream = Mutex<HTTPStream?>(nil)
    private let label: String

    /// A silent stream for this long means the control plane is unreachable (it sends a heartbeat every second).
    static let silenceMilliseconds = 3000

    init(
        label: String, client: HTTPClient, path: String, headers: @escaping @Sendable () -> HTTPHeaders,
        statePath: String,
        cachedVersion: Int64?, cachedHash: String?, cachedAt: String?, seed: UInt64, hooks: SubscriberHooks
    ) {
        self.label = label
        self.client = client
        self.path = path
        self.headers = headers
        self.statePath = statePath
        self.hooks = hooks
        var orphanReason: String? = nil
        if let bytes = readWholeFile(statePath), let json = try? JSONParser.parse(bytes) {
            orphanReason = json["orphaned"]?.stringValue
        }
        machine = Mutex(
            DataPlaneMachine(
                cachedVersion: cachedVersion, cachedHash: cachedHash, orphanReason: orphanReason, seed: seed))
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
        while !isStopping {
            switch opened.next(timeoutMilliseconds: ConfigSubscriber.silenceMilliseconds) {
            case .timeout: return "no message from the control plane for \(ConfigSubscriber.silenceMilliseconds) ms"
            case .closed(let why): return why
            case .message(let message): handle(message)
            }
        }
        return "stopping"
    }

    private func handle(_ message: JSON) {
        switch message["type"]?.stringValue {
        case "config":
            guard let version = message["version"]?.intValue, let hash = message["hash"]?.stringValue else { return }
            let directives = machine.withLock { $0.onConfiguration(version: version, hash: hash) }
            if directives.contains(.applyConfiguration(version: version, hash: hash)) {
                hooks.apply(message, version, hash)
            }
            lastSync.withLock { $0 = NodeRuntime.wallClockNow() }
            carryOut(directives)
        case "decommissioned":
            let reason = message["reason"]?.stringValue ?? "the control plane was decommissioned"
            let directives = machine.withLock { $0.onDecommissioned(reason: reason) }
            if !directives.isEmpty {
                Log.warning("control plane decommissioned: \(reason); keeping the last configuration, no more updates")
            }
            carryOut(directives)
        case "unauthorized":
            Log.warning("the control plane no longer accepts this node's credential")
        default:
            break
        }
    }

    private func carryOut(_ directives: [DataPlaneDirective]) {
        for directive in directives {
            switch directive {
            case .applyConfiguration:
                break  // done in `handle`, which has the message
            case .persistOrphaned(let reason):
                let state: JSON = ["orphaned": .optional(reason)]
                try? AtomicFile.write(state.bytes, to: statePath)
            case .ping:
                hooks.ping()
            case .reconnect(let delay):
                sleepMilliseconds(delay)
            }
        }
    }
}
