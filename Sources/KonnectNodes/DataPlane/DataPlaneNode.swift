import KonnectCore
import KonnectHTTP
import KonnectStorage
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// How a data-plane node is started (`konnect-sim node dp ...`).
public struct DataPlaneConfiguration: Sendable {
    public var directory: String
    public var name: String
    public var geo: String
    public var geoSocket: String
    public var credential: String
    public var controlPlaneID: String
    public var proxyPort: Int
    public var faultsFile: String?
    public var seed: UInt64?

    public init(
        directory: String, name: String, geo: String, geoSocket: String, credential: String, controlPlaneID: String,
        proxyPort: Int,
        faultsFile: String?, seed: UInt64?
    ) {
        self.directory = directory
        self.name = name
        self.geo = geo
        self.geoSocket = geoSocket
        self.credential = credential
        self.controlPlaneID = controlPlaneID
        self.proxyPort = proxyPort
        self.faultsFile = faultsFile
        self.seed = seed
    }
}

/// What a data plane runs: one configuration, applied atomically (swapped as a whole).
struct RunningConfiguration: Sendable {
    var cached: CachedConfiguration
    var routes: RouteTable

    init(_ cached: CachedConfiguration) {
        self.cached = cached
        routes = RouteTable(config: cached.config)
    }

    var version: Int64 { cached.version }
    var hash: String { cached.hash }
    var config: DeclarativeConfig { cached.config }
    var license: JSON { cached.license }
    var receivedAt: String { cached.receivedAt }
}

/// A simulated Kong Gateway data plane in hybrid mode (C2, C3, D5, D6): syncs configuration from its
/// geo's control plane by push, caches it on disk, proxies real HTTP on a loopback port, counts API
/// calls for usage, and keeps running on its last configuration when its control plane is gone.
public final class DataPlaneNode: Sendable {
    public let configuration: DataPlaneConfiguration
    let nodeID: String
    let running: Mutex<RunningConfiguration?>
    /// Monotonic nanoseconds at which each version was applied (for `bench sync`), newest last.
    let applied = Mutex<[(version: Int64, at: UInt64)]>([])
    let usage: UsageReportStore
    let usageQueued = Signal()
    let geo: HTTPClient
    let faults: FaultFile?
    let stopping = Mutex(false)
    let proxyPort = Mutex(0)
    let cache: ConfigurationCacheStore
    let pendingCache = Mutex<CachedConfiguration?>(nil)
    let cacheQueued = Signal()
    /// Asks the ping loop to report the running hash soon (after an apply), off the sync path.
    let pingRequested = Signal()
    /// The version the disk cache holds.
    let cachedVersion = Mutex<Int64?>(nil)
    /// Set once in `init`; the subscriber needs `self` for its hooks.
    private let subscriberBox = Mutex<ConfigSubscriber?>(nil)

    var subscriber: ConfigSubscriber { subscriberBox.withLock { $0! } }

    static let softwareVersion = "3.9.0"

    var link: String { LinkFault.linkName(from: configuration.name, to: configuration.geo) }

    public init(configuration: DataPlaneConfiguration) throws {
        self.configuration = configuration
        let seed = (configuration.seed ?? UInt64(Monotonic.nanoseconds)) ^ SeededRandom.hash(configuration.name)
        nodeID = try NodeIdentityStore(path: configuration.directory + "/node-id").loadOrCreate(seed: seed)
        faults = configuration.faultsFile.map { FaultFile(path: $0) }
        geo = HTTPClient(
            endpoint: .unix(configuration.geoSocket),
            link: LinkFault.linkName(from: configuration.name, to: configuration.geo), faults: faults,
            connectTimeoutMilliseconds: 500, timeoutMilliseconds: 3000)
        usage = try UsageReportStore(
            path: configuration.directory + "/usage.sqlite", counterPath: configuration.directory + "/usage-counters")

        // Start from the disk cache (D6: a data plane restarted during an outage still serves).
        cache = ConfigurationCacheStore(
            path: configuration.directory + "/config-cache.json", controlPlaneID: configuration.controlPlaneID)
        let cached = cache.load()
        running = Mutex(cached.map(RunningConfiguration.init))
        let credential = configuration.credential
        let nodeID = self.nodeID
        let hostname = DataPlaneNode.hostname()
        let hash = cached?.hash ?? DeclarativeConfig.emptyHash
        subscriberBox.withLock {
            $0 = ConfigSubscriber(
                label: "dp", client: geo, path: "/internal/v1/dp/sync",
                headers: { [weak self] in
                    [
                        "Authorization": "Bearer \(credential)", "X-Node-Id": nodeID,
                        "X-Node-Hostname": "\(hostname)/\(configuration.name)",
                        "X-Node-Version": DataPlaneNode.softwareVersion,
                        "X-Config-Hash": self?.running.withLock { $0?.hash } ?? hash,
                    ]
                }, orphanState: OrphanStateStore(path: configuration.directory + "/state.json"),
                cachedVersion: cached?.version, cachedHash: cached?.hash, cachedAt: cached?.receivedAt, seed: seed,
                hooks: SubscriberHooks(
                    apply: { [weak self] configuration in self?.apply(configuration) },
                    ping: { [weak self] in self?.pingRequested.fire() }))
        }
        if let cached {
            Log.info("loaded cached configuration version \(cached.version) (\(cached.hash)) from \(cache.path)")
        }
    }

    var isStopping: Bool { stopping.withLock { $0 } }

    public func start() {
        cachedVersion.withLock { $0 = running.withLock { $0?.version } }
        spawnThread(name: "dp-cache") { [self] in cacheLoop() }
        subscriber.start()
        spawnThread(name: "dp-usage") { [self] in usageLoop() }
        spawnThread(name: "dp-ping") { [self] in pingLoop() }
    }

    public func stop() {
        stopping.withLock { $0 = true }
        subscriber.stop()
        usageQueued.fire()
        cacheQueued.fire()
        pingRequested.fire()
    }

    /// Swaps in a new configuration atomically; the cache loop writes it to disk.
    func apply(_ configuration: SyncedConfiguration) {
        let next = CachedConfiguration(
            version: configuration.version, hash: configuration.hash,
            config: DeclarativeConfig(json: configuration.body),
            license: configuration.license, receivedAt: subscriber.calendarNow.withLock { $0 }?.iso8601 ?? "")
        running.withLock { $0 = RunningConfiguration(next) }
        let stamp = Monotonic.nanoseconds
        applied.withLock { list in
            list.append((next.version, stamp))
            if list.count > 4096 { list.removeFirst(list.count - 4096) }
        }
        pendingCache.withLock { $0 = next }
        cacheQueued.fire()
    }

    /// Writes the newest applied configuration to the disk cache (write, fsync, rename) off the apply
    /// path; versions that arrive while a write is in progress are coalesced into the next write.
    func cacheLoop() {
        let log = LoopLog(loop: "dp configuration cache")
        while !isStopping {
            let generation = cacheQueued.current
            // A short pause keeps the fsync out of the moment every data plane applies the change.
            if pendingCache.withLock({ $0 != nil }) { sleepMilliseconds(25) }
            if let next = pendingCache.withLock({ pending -> CachedConfiguration? in
                defer { pending = nil }
                return pending
            }) {
                do {
                    try cache.save(next)
                    cachedVersion.withLock { $0 = next.version }
                    log.succeeded()
                } catch {
                    // Keep the newest for the next attempt, unless a newer one arrived meanwhile.
                    pendingCache.withLock { if $0 == nil { $0 = next } }
                    log.failed(error, next: "serving version \(next.version) from memory, writing it again in 1 s")
                    cacheQueued.wait(after: cacheQueued.current, timeoutMilliseconds: 1000)
                }
                continue
            }
            cacheQueued.wait(after: generation, timeoutMilliseconds: 1000)
        }
    }

    /// Reports the running hash every 5 s, and half a second after an applied configuration (coalesced, so a
    /// burst of changes costs one ping and the push to other data planes is not slowed by it).
    func pingLoop() {
        let log = LoopLog(loop: "dp ping")
        while !isStopping {
            let seen = pingRequested.current
            if pingRequested.wait(after: seen, timeoutMilliseconds: 5000) != seen { sleepMilliseconds(500) }
            if isStopping { break }
            do {
                try sendPing()
                log.succeeded()
            } catch {
                log.failed(error, next: "pinging again within 5 s")
            }
        }
    }

    func sendPing() throws {
        let (hash, state) = subscriber.machine.withLock { ($0.hash, $0.state) }
        let ping = DataPlanePing(nodeID: nodeID, configHash: hash ?? DeclarativeConfig.emptyHash, state: state)
        let response = try geo.json(
            "POST", "/internal/v1/dp/ping", ping.json,
            headers: ["Authorization": "Bearer \(configuration.credential)"], timeoutMilliseconds: 1000)
        try response.expect(204, "POST /internal/v1/dp/ping")
    }

    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count - 1)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: - Status

    /// `GET /status` on the node's socket: what `dp status` prints.
    var statusJSON: JSON {
        let (state, version, hash, reason, error) = subscriber.machine.withLock {
            ($0.state, $0.version, $0.hash, $0.orphanReason, $0.lastError)
        }
        let current = running.withLock { $0 }
        let pending: JSON
        do {
            pending = .int(try usage.unreported())
        } catch {
            Log.error("cannot read the unreported usage: \(error)")
            pending = .null
        }
        return [
            "name": .string(configuration.name), "node_id": .string(nodeID), "geo": .string(configuration.geo),
            "control_plane_id": .string(configuration.controlPlaneID), "state": .string(state.rawValue),
            "orphaned_reason": .optional(reason), "last_error": .optional(error),
            "config": [
                "version": .optional(version), "hash": .optional(hash), "received_at": .optional(current?.receivedAt),
                "cached_version": .optional(cachedVersion.withLock { $0 }),
                "services": .int(current?.config.services.count ?? 0),
                "routes": .int(current?.config.routes.count ?? 0),
            ],
            "license": current?.license ?? .null,
            "last_sync": .optional(subscriber.lastSync.withLock { $0 }),
            "proxy_url": .string("http://127.0.0.1:\(proxyPort.withLock { $0 })"),
            "unreported_usage": pending,
        ]
    }
}
