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
    var version: Int64
    var hash: String
    var config: DeclarativeConfig
    var license: JSON
    var routes: RouteTable
    var receivedAt: String
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
    let usage: Database
    let usageQueued = Signal()
    let geo: HTTPClient
    let faults: FaultFile?
    let stopping = Mutex(false)
    let upstreams = Mutex<[String: HTTPClient]>([:])
    let proxyPort = Mutex(0)
    let pendingCache = Mutex<(Int64, JSON)?>(nil)
    let cacheQueued = Signal()
    /// Asks the ping loop to report the running hash soon (after an apply), off the sync path.
    let pingRequested = Signal()
    /// The version the disk cache holds.
    let cachedVersion = Mutex<Int64?>(nil)
    /// Set once in `init`; the subscriber needs `self` for its hooks.
    private let subscriberBox = Mutex<ConfigSubscriber?>(nil)

    var subscriber: ConfigSubscriber { subscriberBox.withLock { $0! } }

    static let softwareVersion = "3.9.0"

    var cachePath: String { configuration.directory + "/config-cache.json" }
    var statePath: String { configuration.directory + "/state.json" }
    var link: String { LinkFault.linkName(from: configuration.name, to: configuration.geo) }

    public init(configuration: DataPlaneConfiguration) throws {
        self.configuration = configuration
        // The node id is made once and kept, so a restarted data plane is the same node in the list.
        let idPath = configuration.directory + "/node-id"
        if let bytes = readWholeFile(idPath),
            let text = String(validating: bytes, as: UTF8.self)?.trimmingCharacters(in: " \n"),
            IdentifierSource.isUUID(text)
        {
            nodeID = text
        } else {
            var generator = SeededRandom(
                seed: (configuration.seed ?? UInt64(Monotonic.nanoseconds)) ^ SeededRandom.hash(configuration.name))
            nodeID = IdentifierSource.uuid((0..<16).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
            try AtomicFile.write(nodeID + "\n", to: idPath)
        }
        faults = configuration.faultsFile.map { FaultFile(path: $0) }
        geo = HTTPClient(
            endpoint: .unix(configuration.geoSocket),
            link: LinkFault.linkName(from: configuration.name, to: configuration.geo), faults: faults,
            connectTimeoutMilliseconds: 500, timeoutMilliseconds: 3000)
        usage = try Database(
            path: configuration.directory + "/usage.sqlite", migrations: DataPlaneNode.migrations, durability: .normal)

        // Start from the disk cache (D6: a data plane restarted during an outage still serves).
        var cached: RunningConfiguration? = nil
        if let bytes = readWholeFile(configuration.directory + "/config-cache.json"),
            let json = try? JSONParser.parse(bytes),
            let version = json["version"]?.intValue, let hash = json["hash"]?.stringValue
        {
            let config = DeclarativeConfig(json: json["config"] ?? [:])
            cached = RunningConfiguration(
                version: version, hash: hash, config: config, license: json["license"] ?? .null,
                routes: RouteTable(config: config),
                receivedAt: json["received_at"]?.stringValue ?? "")
        }
        running = Mutex(cached)
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
                }, statePath: configuration.directory + "/state.json", cachedVersion: cached?.version,
                cachedHash: cached?.hash,
                cachedAt: cached?.receivedAt,
                seed: (configuration.seed ?? UInt64(Monotonic.nanoseconds)) ^ SeededRandom.hash(configuration.name),
                hooks: SubscriberHooks(
                    apply: { [weak self] message, version, hash in self?.apply(message, version: version, hash: hash) },
                    ping: { [weak self] in self?.pingRequested.fire() }))
        }
        if let cached {
            Log.info("loaded cached configuration version \(cached.version) (\(cached.hash)) from \(cachePath)")
        }
    }

    static let migrations = [
        Migration(
            version: 1,
            sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE counters (service_id TEXT NOT NULL, route_id TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (service_id, route_id));
                CREATE TABLE outbox (seq INTEGER PRIMARY KEY, counts TEXT NOT NULL);
                """)
    ]

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
    }

    /// Swaps in a new configuration atomically and writes it to the cache (write, fsync, rename).
    func apply(_ message: JSON, version: Int64, hash: String) {
        let config = DeclarativeConfig(json: message["config"] ?? [:])
        let now = NodeRuntime.wallClockNow()
        let next = RunningConfiguration(
            version: version, hash: hash, config: config, license: message["license"] ?? .null,
            routes: RouteTable(config: config), receivedAt: now)
        running.withLock { $0 = next }
        let stamp = Monotonic.nanoseconds
        applied.withLock { list in
            list.append((version, stamp))
            if list.count > 4096 { list.removeFirst(list.count - 4096) }
        }
        let cache: JSON = [
            "version": .int(version), "hash": .string(hash), "control_plane_id": .string(configuration.controlPlaneID),
            "received_at": .string(now), "config": config.json, "license": next.license,
        ]
        pendingCache.withLock { $0 = (version, cache) }
        cacheQueued.fire()
    }

    /// Writes the newest applied configuration to the disk cache (write, fsync, rename) off the apply
    /// path; versions that arrive while a write is in progress are coalesced into the next write.
    func cacheLoop() {
        while !isStopping {
            let generation = cacheQueued.current
            // A short pause keeps the fsync out of the moment every data plane applies the change.
            if pendingCache.withLock({ $0 != nil }) { sleepMilliseconds(25) }
            if let (version, cache) = pendingCache.withLock({ pending -> (Int64, JSON)? in
                defer { pending = nil }
                return pending
            }) {
                do {
                    try AtomicFile.write(cache.bytes, to: cachePath)
                    cachedVersion.withLock { $0 = version }
                } catch {
                    Log.error("cannot write the configuration cache: \(error)")
                }
                continue
            }
            cacheQueued.wait(after: generation, timeoutMilliseconds: 1000)
        }
    }

    /// Reports the running hash every 5 s, and half a second after an applied configuration (coalesced, so a
    /// burst of changes costs one ping and the push to other data planes is not slowed by it).
    func pingLoop() {
        while !isStopping {
            let seen = pingRequested.current
            if pingRequested.wait(after: seen, timeoutMilliseconds: 5000) != seen { sleepMilliseconds(500) }
            if isStopping { break }
            sendPing()
        }
    }

    func sendPing() {
        let (hash, state) = subscriber.machine.withLock { ($0.hash, $0.state) }
        _ = try? geo.json(
            "POST", "/internal/v1/dp/ping",
            [
                "node_id": .string(nodeID), "config_hash": .string(hash ?? DeclarativeConfig.emptyHash),
                "state": .string(state.rawValue),
            ],
            headers: ["Authorization": "Bearer \(configuration.credential)"], timeoutMilliseconds: 1000)
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
        let pending =
            (try? usage.read { db in
                (try db.query("SELECT COALESCE(SUM(count), 0) AS n FROM counters").first?.int("n") ?? 0)
                    + (try db.query("SELECT COUNT(*) AS n FROM outbox").first?.int("n") ?? 0)
            }) ?? 0
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
            "unreported_usage": .int(pending),
        ]
    }
}
