import KonnectCore
import KonnectHTTP
import KonnectStorage
import Synchronization

/// How a zone control plane is started (`konnect-sim node zone ...`).
public struct ZoneConfiguration: Sendable {
    public var directory: String
    public var name: String
    public var geo: String
    public var geoSocket: String
    public var token: String
    public var meshControlPlaneID: String
    public var faultsFile: String?
    public var seed: UInt64?

    public init(
        directory: String, name: String, geo: String, geoSocket: String, token: String, meshControlPlaneID: String,
        faultsFile: String?, seed: UInt64?
    ) {
        self.directory = directory
        self.name = name
        self.geo = geo
        self.geoSocket = geoSocket
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
    let policies: Mutex<(version: Int64, hash: String, body: JSON, license: JSON, receivedAt: String)?>
    let workloads: Mutex<[String: JSON]>
    let geo: HTTPClient
    let stopping = Mutex(false)
    let wake = Signal()
    private let subscriberBox = Mutex<ConfigSubscriber?>(nil)

    static let softwareVersion = "2.9.0"

    var subscriber: ConfigSubscriber { subscriberBox.withLock { $0! } }
    var cachePath: String { configuration.directory + "/policies-cache.json" }
    var workloadsPath: String { configuration.directory + "/workloads.json" }

    public init(configuration: ZoneConfiguration) {
        self.configuration = configuration
        geo = HTTPClient(
            endpoint: .unix(configuration.geoSocket),
            link: LinkFault.linkName(from: configuration.name, to: configuration.geo),
            faults: configuration.faultsFile.map { FaultFile(path: $0) }, connectTimeoutMilliseconds: 500,
            timeoutMilliseconds: 3000)
        var cached: (version: Int64, hash: String, body: JSON, license: JSON, receivedAt: String)? = nil
        if let bytes = readWholeFile(configuration.directory + "/policies-cache.json"),
            let json = try? JSONParser.parse(bytes),
            let version = json["version"]?.intValue, let hash = json["hash"]?.stringValue
        {
            cached = (
                version, hash, json["policies"] ?? [:], json["license"] ?? .null, json["received_at"]?.stringValue ?? ""
            )
        }
        policies = Mutex(cached)
        var loaded: [String: JSON] = [:]
        if let bytes = readWholeFile(configuration.directory + "/workloads.json"),
            let json = try? JSONParser.parse(bytes)
        {
            for item in json.arrayValue ?? [] { if let name = item["name"]?.stringValue { loaded[name] = item } }
        }
        workloads = Mutex(loaded)
        let token = configuration.token
        let name = configuration.name
        subscriberBox.withLock {
            $0 = ConfigSubscriber(
                label: "zone", client: geo, path: "/internal/v1/zone/sync",
                headers: { [weak self] in
                    [
                        "Authorization": "Bearer \(token)", "X-Zone-Name": name,
                        "X-Zone-Version": ZoneNode.softwareVersion,
                        "X-Config-Hash": self?.policies.withLock { $0?.hash } ?? DeclarativeConfig.emptyHash,
                    ]
                }, statePath: configuration.directory + "/state.json", cachedVersion: cached?.version,
                cachedHash: cached?.hash,
                cachedAt: cached?.receivedAt,
                seed: (configuration.seed ?? UInt64(Monotonic.nanoseconds)) ^ SeededRandom.hash(name),
                hooks: SubscriberHooks(
                    apply: { [weak self] message, version, hash in self?.apply(message, version: version, hash: hash) },
                    ping: { [weak self] in self?.ping() }))
        }
        if let cached { Log.info("loaded cached policies version \(cached.version) from \(cachePath)") }
    }

    public func start() {
        subscriber.start()
        spawnThread(name: "zone-ping") { [self] in
            while !stopping.withLock({ $0 }) {
                wake.wait(after: wake.current, timeoutMilliseconds: 5000)
                ping()
            }
        }
    }

    public func stop() {
        stopping.withLock { $0 = true }
        subscriber.stop()
        wake.fire()
    }

    /// Swaps in new policies and caches them (write, fsync, rename).
    func apply(_ message: JSON, version: Int64, hash: String) {
        let now = NodeRuntime.wallClockNow()
        let body = message["policies"] ?? [:]
        let license = message["license"] ?? .null
        policies.withLock { $0 = (version, hash, body, license, now) }
        let cache: JSON = [
            "version": .int(version), "hash": .string(hash), "received_at": .string(now), "policies": body,
            "license": license,
            "mesh_control_plane_id": .string(configuration.meshControlPlaneID),
        ]
        do { try AtomicFile.write(cache.bytes, to: cachePath) } catch {
            Log.error("cannot write the policies cache: \(error)")
        }
    }

    func ping() {
        let hash = policies.withLock { $0?.hash } ?? DeclarativeConfig.emptyHash
        let count = workloads.withLock { $0.count }
        let state = subscriber.machine.withLock { $0.state }
        _ = try? geo.json(
            "POST", "/internal/v1/zone/ping",
            ["config_hash": .string(hash), "workloads": .int(count), "state": .string(state.rawValue)],
            headers: ["Authorization": "Bearer \(configuration.token)"], timeoutMilliseconds: 1000)
    }

    /// What the zone serves to its workloads: its last policies, whatever the state of the global control plane.
    var policiesJSON: JSON {
        let current = policies.withLock { $0 }
        let state = subscriber.machine.withLock { $0.state }
        return [
            "zone": .string(configuration.name), "state": .string(state.rawValue),
            "version": .optional(current?.version),
            "hash": .optional(current?.hash), "meshes": current?.body["meshes"] ?? [],
            "policies": current?.body["policies"] ?? [],
            "license": current?.license ?? .null,
        ]
    }

    var statusJSON: JSON {
        let (state, version, hash, reason, error) = subscriber.machine.withLock {
            ($0.state, $0.version, $0.hash, $0.orphanReason, $0.lastError)
        }
        let current = policies.withLock { $0 }
        return [
            "name": .string(configuration.name), "geo": .string(configuration.geo),
            "mesh_control_plane_id": .string(configuration.meshControlPlaneID),
            "state": .string(state.rawValue), "orphaned_reason": .optional(reason), "last_error": .optional(error),
            "policies": [
                "version": .optional(version), "hash": .optional(hash), "received_at": .optional(current?.receivedAt),
                "count": .int(current?.body["policies"]?.arrayValue?.count ?? 0),
            ],
            "license": current?.license ?? .null, "last_sync": .optional(subscriber.lastSync.withLock { $0 }),
            "workloads": .int(workloads.withLock { $0.count }), "version": .string(ZoneNode.softwareVersion),
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
                    let items = self.workloads.withLock {
                        $0.values.sorted { ($0["name"]?.stringValue ?? "") < ($1["name"]?.stringValue ?? "") }
                    }
                    return HTTPResponse.json(["total": .int(items.count), "items": .array(items)])
                },
                Router.route("POST", "/workloads") { request in
                    var reader = try ObjectReader(request.json())
                    let name = reader.string("name", required: true, nullable: false, minLength: 1, maxLength: 100)
                    let mesh = reader.string("mesh", required: true, nullable: false, minLength: 1, maxLength: 100)
                    try reader.finish()
                    let record: JSON = [
                        "name": .optional(name), "mesh": .optional(mesh),
                        "registered_at": .string(NodeRuntime.wallClockNow()),
                    ]
                    // The file is written (durably) before memory changes, both under one lock, so a 201 is on
                    // disk and concurrent registrations never write an older snapshot over a newer one.
                    try self.workloads.withLock { workloads in
                        var next = workloads
                        next[name ?? ""] = record
                        let sorted = next.values.sorted {
                            ($0["name"]?.stringValue ?? "") < ($1["name"]?.stringValue ?? "")
                        }
                        try AtomicFile.write(JSON.array(sorted).bytes, to: self.workloadsPath)
                        workloads = next
                    }
                    self.wake.fire()
                    return HTTPResponse.json(record, status: 201)
                },
            ], log: { Log.error($0) })
    }
}
