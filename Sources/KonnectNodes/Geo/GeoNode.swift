import KonnectCore
import KonnectHTTP
import KonnectSecurity
import KonnectStorage
import Synchronization

/// How a geo node is started (`konnect-sim node geo ...`).
public struct GeoConfiguration: Sendable {
    public var directory: String
    public var name: String
    public var authSocket: String
    public var faultsFile: String?
    public var seed: UInt64?

    public init(directory: String, name: String, authSocket: String, faultsFile: String?, seed: UInt64?) {
        self.directory = directory
        self.name = name
        self.authSocket = authSocket
        self.faultsFile = faultsFile
        self.seed = seed
    }
}

/// Who is calling a geo API, as the auth node resolved the token (T5).
struct Caller: Sendable {
    var userID: String
    var email: String
    var organizationID: String
    var organizationName: String
    var roles: [RoleAssignment]
    /// The calendar's moment when the auth node answered.
    var now: SimTime
    var introspection: JSON

    var permissions: Permissions { Permissions(roles) }
}

/// A geo node (T2): one geo's control planes, gateway entities, Dev Portals, data-plane registrations,
/// Mesh global control planes and usage, in its own database. Nothing here is visible from another geo
/// (T3); only authentication crosses geos, by asking the auth node for every request.
public final class GeoNode: Sendable {
    public let configuration: GeoConfiguration
    let db: Database
    let ids: IdentifierSource
    let auth: HTTPClient
    /// Wakes sync streams when a control plane's configuration changes or is decommissioned.
    let configChanged = Signal()
    /// Wakes the usage reporter when a report is queued.
    let usageQueued = Signal()
    /// The calendar moment last heard from the auth node (stamps usage spans).
    let lastKnownNow: Mutex<SimTime>
    let stopping = Mutex(false)
    /// Data planes' latest heartbeats, flushed to `dp_nodes` every few seconds.
    let nodePings = Mutex<[String: NodePing]>([:])
    /// Per change generation: each control plane's sync state and which credentials are valid, computed
    /// once per change rather than once per connected data plane.
    let syncSnapshots = Mutex<[String: (generation: UInt64, value: SyncState)]>([:])
    let credentialSnapshots = Mutex<(generation: UInt64, map: [String: String?])>((0, [:]))
    /// The licenses last stored per organization (so requests do not rewrite them).
    let rememberedLicenses = Mutex<[String: String]>([:])
    /// The latest config message per control plane, shared by all its streams.
    let configCache = Mutex<[String: (version: Int64, bytes: [UInt8])]>([:])

    /// The auth node must answer within this budget, or the geo answers 503 (T5).
    static let authBudgetMilliseconds = 800

    public init(configuration: GeoConfiguration) throws {
        self.configuration = configuration
        db = try Database(path: configuration.directory + "/geo.sqlite", migrations: GeoSchema.migrations)
        ids = IdentifierSource(seed: configuration.seed, node: "geo-\(configuration.name)")
        let faults = configuration.faultsFile.map { FaultFile(path: $0) }
        auth = HTTPClient(
            endpoint: .unix(configuration.authSocket), link: LinkFault.linkName(from: configuration.name, to: "auth"),
            faults: faults,
            connectTimeoutMilliseconds: 300, timeoutMilliseconds: GeoNode.authBudgetMilliseconds)
        let stored = try db.read { db in
            try db.query("SELECT value FROM meta WHERE key = 'last_known_now'").first?.int("value")
        }
        lastKnownNow = Mutex(SimTime(seconds: stored.flatMap { $0 } ?? SimTime.defaultStart.seconds))
    }

    public var name: String { configuration.name }

    /// Starts the background loops: the auth node's event feed (decommissions, D4) and usage reports (B3).
    public func startBackgroundWork() {
        // No stream survives a restart: zones that were connected are disconnected until they reconnect.
        let now = wallSeconds()
        _ = try? db.write { db in
            try db.execute("UPDATE zones SET disconnected_at = ? WHERE disconnected_at IS NULL", .int(now))
        }
        spawnThread(name: "geo-events") { [self] in followAuthEvents() }
        spawnThread(name: "geo-usage") { [self] in reportUsage() }
    }

    public func stop() {
        stopping.withLock { $0 = true }
        configChanged.fire()
        usageQueued.fire()
    }

    var isStopping: Bool { stopping.withLock { $0 } }

    /// Asks the auth node who is calling; 401 as the auth node says, 503 when it cannot be reached in time.
    func caller(_ request: APIRequest) throws(APIError) -> Caller {
        guard let token = request.bearerToken else {
            throw APIError(
                status: 401, title: "Unauthenticated",
                detail: "A valid token is required: send 'Authorization: Bearer <token>'")
        }
        let response: ClientResponse
        do {
            response = try auth.json("POST", "/internal/v1/introspect", ["token": .string(token)])
        } catch {
            throw GeoNode.authUnavailable(error.description)
        }
        guard response.status == 200, let body = response.json else {
            if response.status == 401 || response.status == 400, let body = response.json {
                throw APIError(
                    status: 401, title: body["title"]?.stringValue ?? "Unauthenticated",
                    detail: body["detail"]?.stringValue ?? "Unauthorized",
                    extra: JSONObject(
                        body.objectValue?.filter { ["reason", "organization_state"].contains($0.key) }.map {
                            ($0.key, $0.value)
                        } ?? []))
            }
            throw GeoNode.authUnavailable("it answered \(response.status)")
        }
        let now = body["now"]?.stringValue.flatMap(SimTime.init(iso8601:)) ?? lastKnownNow.withLock { $0 }
        noteCalendar(now)
        let caller = Caller(
            userID: body["user"]?["id"]?.stringValue ?? "", email: body["user"]?["email"]?.stringValue ?? "",
            organizationID: body["organization"]?["id"]?.stringValue ?? "",
            organizationName: body["organization"]?["name"]?.stringValue ?? "",
            roles: body["roles"]?.arrayValue?.compactMap(RoleAssignment.init(json:)) ?? [], now: now,
            introspection: body)
        rememberLicenses(caller)
        return caller
    }

    static func authUnavailable(_ why: String) -> APIError {
        APIError(
            status: 503, title: "Auth Node Unavailable",
            detail:
                "The auth node is unavailable, so this geo cannot authenticate the request (\(why)). Retry when it is back.",
            extra: JSONObject([("reason", "auth_node_unavailable")]))
    }

    /// Remembers the latest calendar moment heard from the auth node.
    func noteCalendar(_ moment: SimTime) {
        let changed = lastKnownNow.withLock { known -> Bool in
            guard moment > known else { return false }
            known = moment
            return true
        }
        if changed {
            _ = try? db.write { db in
                try db.execute(
                    "INSERT INTO meta(key, value) VALUES ('last_known_now', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    .text(String(moment.seconds)))
            }
        }
    }

    /// Keeps the organization's licenses for data-plane configurations (P4), only when they changed.
    func rememberLicenses(_ caller: Caller) {
        let gateway = caller.introspection["gateway_license"] ?? .null
        let mesh = caller.introspection["mesh_license"] ?? .null
        let stamp = gateway.text + mesh.text
        // Every request brings the licenses: write only when they differ from what was last stored.
        guard rememberedLicenses.withLock({ $0[caller.organizationID] }) != stamp else { return }
        let stored = try? db.write { db in
            try db.execute(
                """
                INSERT INTO org_licenses(org_id, gateway, mesh) VALUES (?, ?, ?)
                ON CONFLICT(org_id) DO UPDATE SET gateway = excluded.gateway, mesh = excluded.mesh
                WHERE gateway IS NOT excluded.gateway OR mesh IS NOT excluded.mesh
                """, .text(caller.organizationID), .text(gateway.text), .text(mesh.text))
        }
        if stored != nil { rememberedLicenses.withLock { $0[caller.organizationID] = stamp } }
    }

    /// Every route of the geo node.
    public var router: Router {
        Router(
            routes: [
                Router.route("GET", "/health") { _ in
                    HTTPResponse.json(["status": "ok", "role": "geo", "geo": .string(self.name)])
                },
                Router.route("GET", "/openapi.json") { _ in HTTPResponse.json(OpenAPIDocument.geo) },
                Router.route("GET", "/v2/whoami") { request in
                    let caller = try self.caller(request)
                    return HTTPResponse.json([
                        "geo": .string(self.name),
                        "user": caller.introspection["user"] ?? .null,
                        "organization": caller.introspection["organization"] ?? .null,
                        "roles": .array(caller.roles.map(\.json)),
                        "token_kind": caller.introspection["token_kind"] ?? .null,
                        "calendar_now": .string(caller.now.iso8601),
                    ])
                },
            ] + controlPlaneRoutes + entityRoutes + portalRoutes + dataPlaneRoutes + meshRoutes + internalRoutes,
            log: { Log.error($0) })
    }
}
