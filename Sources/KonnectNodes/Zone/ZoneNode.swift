import KonnectCore
import KonnectHTTP
import KonnectStorage
import Synchronization

/// How a zone control plane is started (`konnect-sim node zone ...`).
public struct ZoneConfiguration: Sendable {
    public var directory: String
    public var name: String
    public var geo: String
    /// Where its geo serves the zone sync stream.
    public var geoLink: NodeLink
    public var network: NodeNetwork
    public var token: String
    public var meshControlPlaneID: String
    public var faultsFile: String?
    public var seed: UInt64?

    public init(
        directory: String, name: String, geo: String, geoLink: NodeLink, network: NodeNetwork = NodeNetwork(),
        token: String, meshControlPlaneID: String, faultsFile: String?, seed: UInt64?
    ) {
        self.directory = directory
        self.name = name
        self.geo = geo
        self.geoLink = geoLink
        self.network = network
        self.token = token
        self.meshControlPlaneID = meshControlPlaneID
        self.faultsFile = faultsFile
        self.seed = seed
    }
}

/// A Kong Mesh zone control plane (D5): receives its global control plane's policies by push (the same
/// subscriber data planes use), caches them on disk, serves them to its workloads, and keeps serving
/// the last ones when the global control plane is unreachable or decommissioned.
public final class ZoneNode: Sendable {
    public let configuration: ZoneConfiguration
    /// The policies it serves, with their disk cache and hash audit.
    let policies: SubscriberConfiguration<NothingDerived>
    let workloads: WorkloadStore
    let geo: HTTPClient
    let stopping = Mutex(false)
    let wake = Signal()
    private let subscriberBox = Mutex<ConfigSubscriber?>(nil)

    static let softwareVersion = "2.9.0"

    var subscriber: ConfigSubscriber { subscriberBox.withLock { $0! } }

    public init(configuration: ZoneConfiguration) throws {
        self.configuration = configuration
        geo = try configuration.network.client(
            to: configuration.geoLink, linkName: LinkFault.linkName(from: configuration.name, to: configuration.geo),
            faults: configuration.faultsFile.map { FaultFile(path: $0) }, connectTimeoutMilliseconds: 500,
            timeoutMilliseconds: 3000)
        policies = SubscriberConfiguration(
            directory: configuration.directory, name: "policies-cache",
            target: .meshControlPlane(id: configuration.meshControlPlaneID), label: "zone")
        let cached = policies.current
        workloads = WorkloadStore(path: configuration.directory + "/workloads.json")
        let token = configuration.token
        let name = configuration.name
        subscriberBox.withLock {
            $0 = ConfigSubscriber(
                label: "zone", client: geo, path: "/internal/v1/zone/sync",
                headers: { [weak self] in
                    [
                        "Authorization": "Bearer \(token)", "X-Zone-Name": name,
                        "X-Zone-Version": ZoneNode.softwareVersion,
                        "X-Config-Hash": self?.policies.current?.hash ?? DeclarativeConfig.emptyHash,
                    ]
                }, orphanState: OrphanStateStore(path: configuration.directory + "/state.json"),
                cachedVersion: cached?.version, cachedHash: cached?.hash, cachedAt: cached?.receivedAt,
                seed: (configuration.seed ?? UInt64(Monotonic.nanoseconds)) ^ SeededRandom.hash(name),
                hooks: SubscriberHooks(
                    prepare: { [weak self] update, receivedAt in
                        self?.policies.prepare(update, receivedAt: receivedAt)
                            ?? .failure(ConfigurationError("the zone is stopping"))
                    },
                    hash: { [weak self] hash in self?.policies.noteHash(hash) },
                    ping: { [weak self] in self?.wake.fire() }))
        }
    }

    public func start() {
        policies.start(
            isStopping: { [weak self] in self?.stopping.withLock { $0 } ?? true },
            resync: { [weak self] reason in self?.subscriber.resync(reason) })
        subscriber.start()
        spawnThread(name: "zone-ping") { [self] in pingLoop() }
    }

    public func stop() {
        stopping.withLock { $0 = true }
        subscriber.stop()
        policies.stop()
        wake.fire()
    }

    /// Reports the policies' hash and the workload count every 5 s, and soon after a change.
    func pingLoop() {
        let log = LoopLog(loop: "zone ping")
        // A wake-up that comes while a ping is being sent is not lost: it is waited for from `seen`.
        var seen = wake.current
        while !stopping.withLock({ $0 }) {
            seen = wake.wait(after: seen, timeoutMilliseconds: 5000)
            if stopping.withLock({ $0 }) { break }
            do {
                try sendPing()
                log.succeeded()
            } catch {
                log.failed(error, next: "pinging again within 5 s")
            }
        }
    }

    func sendPing() throws {
        // Between a delta and its hash the running hash is unknown: the ping that follows the hash says it.
        if let current = policies.current, current.hash == nil { return }
        let ping = ZonePing(
            configHash: policies.current?.hash ?? DeclarativeConfig.emptyHash, workloads: workloads.count,
            state: subscriber.machine.withLock { $0.state })
        let response = try geo.json(
            "POST", "/internal/v1/zone/ping", ping.json, headers: ["Authorization": "Bearer \(configuration.token)"],
            timeoutMilliseconds: 1000)
        try response.expect(204, "POST /internal/v1/zone/ping")
    }

    /// What the zone serves to its workloads: its last policies, whatever the state of the global control plane.
    var policiesJSON: JSON {
        let current = policies.current
        let state = subscriber.machine.withLock { $0.state }
        return [
            "zone": .string(configuration.name), "state": .string(state.rawValue),
            "version": .optional(current?.version),
            "hash": .optional(current?.hash), "meshes": ZoneNode.items(current, "meshes"),
            "policies": ZoneNode.items(current, "policies"),
            "license": current?.license ?? .null,
        ]
    }

    /// A collection of the policies that run, as JSON (in build order).
    static func items(_ current: Replica<NothingDerived>?, _ collection: String) -> JSON {
        .array((current?.content.items(of: collection) ?? []).compactMap { try? JSONParser.parse($0.bytes) })
    }

    var statusJSON: JSON {
        let (state, version, hash, reason, error) = subscriber.machine.withLock {
            ($0.state, $0.version, $0.hash, $0.orphanReason, $0.lastError)
        }
        let current = policies.current
        return [
            "name": .string(configuration.name), "geo": .string(configuration.geo),
            "mesh_control_plane_id": .string(configuration.meshControlPlaneID),
            "state": .string(state.rawValue), "orphaned_reason": .optional(reason), "last_error": .optional(error),
            "policies": [
                "version": .optional(version), "hash": .optional(hash), "received_at": .optional(current?.receivedAt),
                "count": .int(current?.content.count(of: "policies") ?? 0),
                "cached_version": .optional(policies.cache.cachedVersion.withLock { $0 }),
            ],
            "license": current?.license ?? .null, "last_sync": .optional(subscriber.lastSync.withLock { $0 }),
            "workloads": .int(workloads.count), "version": .string(ZoneNode.softwareVersion),
        ]
    }

    /// The zone's API: status, the policies it serves, and workload (mesh data plane) registration.
    public var router: Router {
        Router(
            routes: [
                Router.route("GET", "/health") { _ in
                    HTTPResponse.json(["status": "ok", "role": "zone", "name": .string(self.configuration.name)])
                },
                Router.route("GET", "/status") { _ in HTTPResponse.json(self.statusJSON) },
                Router.route("GET", "/policies") { _ in HTTPResponse.json(self.policiesJSON) },
                Router.route("GET", "/workloads") { _ in
                    let items = self.workloads.all
                    return HTTPResponse.json(["total": .int(items.count), "items": .array(items)])
                },
                Router.route("POST", "/workloads") { request in
                    var reader = try ObjectReader(request.json())
                    let name = reader.string("name", required: true, nullable: false, minLength: 1, maxLength: 100)
                    let mesh = reader.string("mesh", required: true, nullable: false, minLength: 1, maxLength: 100)
                    try reader.finish()
                    guard let name, let mesh else { throw APIError.badRequest("Invalid request") }
                    let record: JSON = [
                        "name": .string(name), "mesh": .string(mesh),
                        "registered_at": .optional(self.subscriber.calendarNow.withLock { $0 }?.iso8601),
                    ]
                    try self.workloads.register(record, name: name)
                    self.wake.fire()
                    return HTTPResponse.json(record, status: 201)
                },
            ], log: { Log.error($0) })
    }
}
