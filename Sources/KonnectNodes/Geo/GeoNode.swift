import KonnectCore
import KonnectHTTP
import KonnectStorage

#if canImport(Glibc)
    import Glibc
#endif

/// How a geo node is started (`konnect-sim node geo ...`).
public struct GeoConfiguration: Sendable {
    public var directory: String
    public var name: String
    /// Where the auth node answers introspection, events, usage and creator roles.
    public var auth: NodeLink
    public var network: NodeNetwork
    public var faultsFile: String?
    public var seed: UInt64?

    public init(
        directory: String, name: String, auth: NodeLink, network: NodeNetwork = NodeNetwork(), faultsFile: String?,
        seed: UInt64?
    ) {
        self.directory = directory
        self.name = name
        self.auth = auth
        self.network = network
        self.faultsFile = faultsFile
        self.seed = seed
    }
}

/// A geo node (T2): one geo's control planes, gateway entities, Dev Portals, data-plane registrations,
/// Mesh global control planes and usage, in its own database. Nothing here is visible from another geo
/// (T3); only authentication crosses geos, by asking the auth node for every request.
///
/// The node only wires: stores over `geo.sqlite` (`Stores/`), the services they share (`Services/`),
/// one route type per area holding just the stores and services it uses (`Routes/`), the push streams
/// (`Sync/`) and the background loops (`Background/`).
public final class GeoNode: Sendable {
    public let configuration: GeoConfiguration
    private let stopFlag = StopFlag()
    private let wakeups = GeoWakeups()
    private let calendar: GeoCalendar
    private let licenses: LicenseBook
    private let presence: NodePresence
    private let zones: ZoneStore
    private let follower: AuthEventFollower
    private let reporter: UsageReporter
    private let authenticator: Authenticator
    private let hasher: ConfigurationHasher
    private let routes: [Router.Route]

    public init(configuration: GeoConfiguration) throws {
        self.configuration = configuration
        let geo = configuration.name
        let faults = configuration.faultsFile.map { FaultFile(path: $0) }
        let database = try GeoDatabase(
            path: configuration.directory + "/geo.sqlite",
            ids: IdentifierSource(seed: configuration.seed, node: "geo-\(geo)"),
            wakeups: wakeups)

        let stores = GeoStores(database: database)
        let meta = stores.meta
        let controlPlanes = stores.controlPlanes
        let entities = stores.entities
        let credentials = stores.credentials
        let nodes = stores.nodes
        let usage = stores.usage
        let decommissions = stores.decommissions
        let meshControlPlanes = stores.meshControlPlanes
        let meshResources = stores.meshResources
        let zoneTokens = stores.zoneTokens
        zones = stores.zones

        let calendar = try GeoCalendar(meta: meta)
        let licenses = LicenseBook(store: stores.licenses)
        database.alsoInEveryWrite(licenses)
        let presence = NodePresence(nodes: nodes, calendar: calendar)
        self.calendar = calendar
        self.licenses = licenses
        self.presence = presence

        let auth = try configuration.network.client(
            to: configuration.auth, linkName: LinkFault.linkName(from: geo, to: "auth"), faults: faults,
            connectTimeoutMilliseconds: 300, timeoutMilliseconds: Authenticator.budgetMilliseconds)
        authenticator = Authenticator(client: auth, calendar: calendar, licenses: licenses)
        let removal = ControlPlaneRemoval(stores)
        let controlPlaneAccess = ControlPlaneAccess(
            geo: geo, authenticator: authenticator, controlPlanes: controlPlanes)
        let meshAccess = MeshAccess(geo: geo, authenticator: authenticator, meshControlPlanes: meshControlPlanes)
        let pushed = PushCounters()
        let stream = PushStream(wakeups: wakeups.streams, stop: stopFlag, calendar: calendar, counters: pushed)
        // Test-only: corrupts the first delta this process sends (the data plane must notice).
        let corruptOneDelta = getenv("KONNECT_SIM_TEST_CORRUPT_DELTA") != nil
        let wakeups = self.wakeups
        hasher = ConfigurationHasher(stop: stopFlag, ready: { wakeups.hashReady() })
        let gatewayBuilds = ConfigurationBuilds(database: database, source: .gateway(stores))
        let meshBuilds = ConfigurationBuilds(database: database, source: .mesh(stores))

        let controlPlaneRoutes = ControlPlaneRoutes(
            geo: geo, dataPlaneEndpoint: "unix://" + NodeFiles.socket(configuration.directory),
            access: controlPlaneAccess, database: database, controlPlanes: controlPlanes, removal: removal,
            creatorRoles: CreatorRoles(geo: geo, client: auth), builds: gatewayBuilds)
        let entityRoutes = GatewayEntityRoutes(
            access: controlPlaneAccess, database: database, entities: entities,
            writer: GatewayEntityWriter(database: database, entities: entities, usage: usage), usage: usage,
            builds: gatewayBuilds)
        let groupRoutes = ControlPlaneGroupRoutes(
            access: controlPlaneAccess, database: database, controlPlanes: controlPlanes, groups: stores.groups,
            entities: entities, view: controlPlaneRoutes)
        let portalRoutes = PortalRoutes(
            geo: geo, authenticator: authenticator, database: database, portals: stores.portals, usage: usage)
        let dataPlaneRoutes = DataPlaneRoutes(
            access: controlPlaneAccess, database: database, credentials: credentials, nodes: nodes, presence: presence)
        let meshRoutes = MeshControlPlaneRoutes(
            geo: geo, access: meshAccess, database: database, meshControlPlanes: meshControlPlanes,
            zoneTokens: zoneTokens, zones: zones)
        let meshResourceRoutes = MeshResourceRoutes(access: meshAccess, database: database, resources: meshResources)
        let zoneSyncRoutes = ZoneSyncRoutes(
            calendar: calendar,
            grants: CredentialCache(generation: wakeups.zoneTokens, maximumLength: 512) { token in
                try zoneTokens.grant(forToken: token)
            },
            zones: zones,
            feed: ConfigurationFeed(
                builds: meshBuilds, hasher: hasher, database: database, decommissions: decommissions,
                licenses: licenses,
                wakeups: wakeups, corruptOneDelta: corruptOneDelta),
            stream: stream)
        let operatorRoutes = OperatorRoutes(
            geo: geo, database: database, calendar: calendar, controlPlanes: controlPlanes, credentials: credentials,
            meshControlPlanes: meshControlPlanes, zoneTokens: zoneTokens, meta: meta, usage: usage,
            decommissions: decommissions, pushed: pushed, builds: [gatewayBuilds, meshBuilds])
        let objectRoutes = OrganizationObjectsRoutes(
            geo: geo, controlPlanes: controlPlanes, entities: entities, portals: stores.portals,
            meshControlPlanes: meshControlPlanes, nodes: nodes, zones: zones, builds: gatewayBuilds)
        let dataPlaneSyncRoutes = DataPlaneSyncRoutes(
            database: database, calendar: calendar,
            credentials: CredentialCache(generation: wakeups.credentials, maximumLength: 16384) { secret in
                try credentials.controlPlane(forSecret: secret)
            },
            usageCredentials: CredentialCache(generation: wakeups.credentials, maximumLength: 16384) { secret in
                try credentials.controlPlane(forSecret: secret)
                    ?? stores.removedControlPlanes.controlPlane(forSecret: secret)
            },
            controlPlanes: controlPlanes, removedControlPlanes: stores.removedControlPlanes, nodes: nodes,
            presence: presence, usage: usage,
            feed: ConfigurationFeed(
                builds: gatewayBuilds, hasher: hasher, database: database, decommissions: decommissions,
                licenses: licenses, wakeups: wakeups, corruptOneDelta: corruptOneDelta),
            stream: stream)
        routes =
            controlPlaneRoutes.routes + groupRoutes.routes + entityRoutes.routes + portalRoutes.routes
            + dataPlaneRoutes.routes
            + meshRoutes.routes + meshResourceRoutes.routes + meshRoutes.zoneRoutes + zoneSyncRoutes.routes
            + operatorRoutes.zoneRoutes + dataPlaneSyncRoutes.routes + operatorRoutes.dataPlaneRoutes
            + objectRoutes.routes

        let seed = configuration.seed ?? 0
        follower = AuthEventFollower(
            geo: geo,
            client: try configuration.network.client(
                to: configuration.auth, linkName: LinkFault.linkName(from: geo, to: "auth"), faults: faults,
                connectTimeoutMilliseconds: 500, timeoutMilliseconds: 25_000),
            meta: meta,
            events: OrganizationEvents(
                geo: geo, stores: stores, licenses: licenses, plantedBug: PlantedBug.fromEnvironment()),
            calendar: calendar, stop: stopFlag, seed: seed ^ SeededRandom.hash(geo + "events"))
        reporter = UsageReporter(
            geo: geo, client: auth, outbox: usage, queued: wakeups.usage, stop: stopFlag,
            seed: seed ^ SeededRandom.hash(geo + "usage"))
    }

    public var name: String { configuration.name }

    /// Starts the background loops: the auth node's event feed (decommissions, D4) and usage reports
    /// (B3). (What requests note in memory, heartbeats, licenses and the calendar's moment, is written
    /// behind from the start.)
    public func startBackgroundWork() {
        // No stream survives a restart: zones that were connected are disconnected until they reconnect.
        do {
            try zones.disconnectAll(at: calendar.now.seconds)
        } catch {
            Log.error("cannot mark the zones disconnected at start: \(error)")
        }
        spawnThread(name: "geo-events") { [follower] in follower.run() }
        spawnThread(name: "geo-usage") { [reporter] in reporter.run() }
        spawnThread(name: "geo-hasher") { [hasher] in hasher.run() }
    }

    public func stop() {
        stopFlag.stop()
        wakeups.stopping()
        hasher.wake()
        // What requests noted in memory reaches the disk before the node exits.
        do {
            try calendar.writes.stop()
            try licenses.stop()
            try presence.stop()
        } catch {
            Log.error("geo \(name) could not write what it kept in memory before stopping: \(error)")
        }
    }

    static let documents = (tcp: OpenAPIDocument.geo(listener: .tcp), unix: OpenAPIDocument.geo(listener: .unix))

    /// Every route of the geo node.
    public var router: Router {
        Router(
            routes: [
                Router.route("GET", "/health") { [name] _ in
                    HTTPResponse.json(["status": "ok", "role": "geo", "geo": .string(name)])
                },
                // Each listener serves the document of what it answers (TCP: no /internal routes).
                Router.route("GET", "/openapi.json") { request in
                    HTTPResponse.json(request.listener == .unix ? GeoNode.documents.unix : GeoNode.documents.tcp)
                },
                Router.route("GET", "/v2/whoami") { [name, authenticator] request in
                    let introspection = try authenticator.caller(request).introspection
                    let json = introspection.json
                    return HTTPResponse.json([
                        "geo": .string(name), "user": json["user"] ?? .null,
                        "organization": json["organization"] ?? .null,
                        "roles": .array(introspection.roles.map(\.json)),
                        "token_kind": .string(introspection.tokenKind.rawValue),
                        "calendar_now": .string(introspection.now.iso8601),
                    ])
                },
            ] + routes,
            log: { Log.error($0) })
    }
}
