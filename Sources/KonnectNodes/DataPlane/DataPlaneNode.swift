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
    /// Where its geo serves the sync stream, pings and usage reports.
    public var geoLink: NodeLink
    public var network: NodeNetwork
    /// The bearer credential on a Unix-socket link; over TLS the data plane's certificate is its credential.
    public var credential: String?
    public var controlPlaneID: String
    public var proxyPort: Int
    public var faultsFile: String?
    public var seed: UInt64?

    public init(
        directory: String, name: String, geo: String, geoLink: NodeLink, network: NodeNetwork = NodeNetwork(),
        credential: String?, controlPlaneID: String, proxyPort: Int, faultsFile: String?, seed: UInt64?
    ) {
        self.directory = directory
        self.name = name
        self.geo = geo
        self.geoLink = geoLink
        self.network = network
        self.credential = credential
        self.controlPlaneID = controlPlaneID
        self.proxyPort = proxyPort
        self.faultsFile = faultsFile
        self.seed = seed
    }
}

extension DataPlaneConfiguration {
    /// The bearer credential on a Unix-socket link; nothing over TLS, where the certificate is the credential.
    var credentialHeaders: HTTPHeaders {
        var headers = HTTPHeaders()
        if let credential { headers.set("Authorization", "Bearer \(credential)") }
        return headers
    }
}

/// What a data plane runs: one version of its control plane's configuration with the route table built
/// from it, swapped or changed together (C2, C3).
typealias RunningConfiguration = Replica<RouteTable>

extension Replica where Derived == RouteTable {
    var routes: RouteTable { derived }
}

/// A simulated Kong Gateway data plane in hybrid mode (C2, C3, D5, D6): syncs configuration from its
/// geo's control plane by push, caches it on disk, proxies real HTTP on a loopback port, counts API
/// calls for usage, and keeps running on its last configuration when its control plane is gone.
public final class DataPlaneNode: Sendable {
    public let configuration: DataPlaneConfiguration
    let nodeID: String
    /// What runs: the configuration with its route table, its disk cache and hash audit.
    let running: SubscriberConfiguration<RouteTable>
    let usage: UsageReportStore
    let usageQueued = Signal()
    let geo: HTTPClient
    let faults: FaultFile?
    let stopping = Mutex(false)
    let proxyPort = Mutex(0)
    /// Asks the ping loop to report the running hash soon (after an apply), off the sync path.
    let pingRequested = Signal()
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
        geo = try configuration.network.client(
            to: configuration.geoLink, linkName: LinkFault.linkName(from: configuration.name, to: configuration.geo),
            faults: faults, connectTimeoutMilliseconds: 500, timeoutMilliseconds: 3000)
        usage = try UsageReportStore(
            path: configuration.directory + "/usage.sqlite", counterPath: configuration.directory + "/usage-counters")

        // Start from the disk cache (D6: a data plane restarted during an outage still serves).
        running = SubscriberConfiguration(
            directory: configuration.directory, name: "config-cache",
            target: .controlPlane(id: configuration.controlPlaneID), label: "dp")
        let cached = running.current
        let credential = configuration.credentialHeaders
        let nodeID = self.nodeID
        let hostname = DataPlaneNode.hostname()
        let hash = cached?.hash ?? DeclarativeConfig.emptyHash
        subscriberBox.withLock {
            $0 = ConfigSubscriber(
                label: "dp", client: geo, path: "/internal/v1/dp/sync",
                headers: { [weak self] in
                    var headers = credential
                    headers.set("X-Node-Id", nodeID)
                    headers.set("X-Node-Hostname", "\(hostname)/\(configuration.name)")
                    headers.set("X-Node-Version", DataPlaneNode.softwareVersion)
                    headers.set("X-Config-Hash", self?.running.current?.hash ?? hash)
                    return headers
                }, orphanState: OrphanStateStore(path: configuration.directory + "/state.json"),
                cachedVersion: cached?.version, cachedHash: cached?.hash, cachedAt: cached?.receivedAt, seed: seed,
                hooks: SubscriberHooks(
                    prepare: { [weak self] update, receivedAt in
                        self?.running.prepare(update, receivedAt: receivedAt)
                            ?? .failure(ConfigurationError("the data plane is stopping"))
                    },
                    hash: { [weak self] hash in self?.running.noteHash(hash) },
                    ping: { [weak self] in self?.pingRequested.fire() }))
        }
    }

    var isStopping: Bool { stopping.withLock { $0 } }

    public func start() {
        running.start(
            isStopping: { [weak self] in self?.isStopping ?? true },
            resync: { [weak self] reason in self?.subscriber.resync(reason) })
        subscriber.start()
        spawnThread(name: "dp-usage") { [self] in usageLoop() }
        spawnThread(name: "dp-ping") { [self] in pingLoop() }
    }

    public func stop() {
        stopping.withLock { $0 = true }
        subscriber.stop()
        usageQueued.fire()
        running.stop()
        pingRequested.fire()
    }

    /// Reports the running hash every 5 s, and half a second after an applied configuration (coalesced, so a
    /// burst of changes costs one ping and the push to other data planes is not slowed by it).
    func pingLoop() {
        let log = LoopLog(loop: "dp ping")
        // A request that comes while a ping is being sent is not lost: it is waited for from `seen`.
        var seen = pingRequested.current
        while !isStopping {
            if pingRequested.wait(after: seen, timeoutMilliseconds: 5000) != seen { sleepMilliseconds(500) }
            // Everything requested until now is covered by this ping.
            seen = pingRequested.current
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
        let (version, hash, state) = subscriber.machine.withLock { ($0.version, $0.hash, $0.state) }
        // Between a delta and its hash the running hash is unknown: the ping that follows the hash says it.
        if version != nil && hash == nil { return }
        let ping = DataPlanePing(nodeID: nodeID, configHash: hash ?? DeclarativeConfig.emptyHash, state: state)
        let response = try geo.json(
            "POST", "/internal/v1/dp/ping", ping.json,
            headers: configuration.credentialHeaders, timeoutMilliseconds: 1000)
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
        let content = current?.content
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
                "cached_version": .optional(running.cache.cachedVersion.withLock { $0 }),
                "services": .int(content?.count(of: "services") ?? 0),
                "routes": .int(content?.count(of: "routes") ?? 0),
                "resyncs": .int(subscriber.resyncs.withLock { $0 }),
                "hash_checks": .int(running.audit.checked.withLock { $0.count }),
            ],
            "license": current?.license ?? .null,
            "last_sync": .optional(subscriber.lastSync.withLock { $0 }),
            "proxy_url": .string("http://\(configuration.network.host):\(proxyPort.withLock { $0 })"),
            "unreported_usage": pending,
        ]
    }
}
