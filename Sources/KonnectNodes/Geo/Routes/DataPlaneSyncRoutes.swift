import KonnectCore
import KonnectHTTP

/// The geo's side of the data-plane link, on its Unix socket only (C2, B3): the push stream, the
/// heartbeat and the usage reports, each authorized by the data plane's credential.
struct DataPlaneSyncRoutes: Sendable {
    let database: GeoDatabase
    let calendar: GeoCalendar
    let credentials: CredentialCache<String>
    let controlPlanes: ControlPlaneStore
    let nodes: DataPlaneNodeStore
    let presence: NodePresence
    let usage: UsageOutboxStore
    let feed: GatewayConfigurationFeed
    let stream: PushStream

    var routes: [Router.Route] {
        [
            Router.route("GET", "/internal/v1/dp/sync", unixOnly: true, sync),
            Router.route("POST", "/internal/v1/dp/ping", unixOnly: true, ping),
            Router.route("POST", "/internal/v1/dp/usage", unixOnly: true, report),
        ]
    }

    /// The control plane the request's credential was issued for; 401 when unknown or revoked.
    private func controlPlane(_ request: APIRequest) throws -> String {
        guard let controlPlane = try credentials.grant(request.bearerToken) else {
            throw APIError(status: 401, detail: "Unauthorized: the data-plane credential is unknown or was revoked")
        }
        return controlPlane
    }

    /// `GET /internal/v1/dp/sync`: registers the node and opens its push stream.
    func sync(_ request: APIRequest) throws -> HTTPResponse {
        let controlPlane = try controlPlane(request)
        let node = request.http.headers["x-node-id"] ?? ""
        try requireUUID(node, "X-Node-Id")
        let hostname = String((request.http.headers["x-node-hostname"] ?? "unknown").prefix(255))
        let version = String((request.http.headers["x-node-version"] ?? "3.9.0").prefix(64))
        let hash = String((request.http.headers["x-config-hash"] ?? DeclarativeConfig.emptyHash).prefix(64))
        try database.write { work in
            try nodes.register(
                node, controlPlane: controlPlane, hostname: hostname, version: version, configHash: hash,
                at: calendar.now.seconds, in: work)
        }
        let credential = request.bearerToken
        return stream.response(
            SyncSubscription(
                stillAuthorized: { try credentials.grant(credential) == controlPlane },
                state: { try feed.state(controlPlane) },
                configuration: { version in try feed.message(controlPlane, version: version) }))
    }

    /// `POST /internal/v1/dp/ping`: the data plane's heartbeat with the hash it runs (noted in memory,
    /// written to the node list every few seconds).
    func ping(_ request: APIRequest) throws -> HTTPResponse {
        let controlPlane = try controlPlane(request)
        let ping = try request.contract(DataPlanePing.init(json:))
        guard try nodes.isRegistered(ping.nodeID, controlPlane: controlPlane) else {
            throw APIError.notFound("Unknown node: reconnect the sync stream to register")
        }
        presence.note(ping.nodeID, configHash: ping.configHash)
        return .noContent
    }

    /// `POST /internal/v1/dp/usage`: proxied-call counts from a data plane, numbered per node; a number
    /// at or below the last one counted is acknowledged without counting (B3, exactly once).
    func report(_ request: APIRequest) throws -> HTTPResponse {
        let controlPlane = try controlPlane(request)
        let report = try request.contract(DataPlaneUsageReport.init(json:))
        let accepted = try database.write { work -> Bool in
            guard report.seq > (try nodes.lastUsageReport(node: report.nodeID, in: work)) else { return false }
            if report.total > 0, let found = try controlPlanes.find(controlPlane, in: work) {
                // One record carries at most `UsageRecord.maximumCount` calls.
                var remaining = report.total
                while remaining > 0 {
                    let count = min(remaining, UsageRecord.maximumCount)
                    try usage.queue(
                        .apiCalls(
                            organizationID: found.organizationID, controlPlaneID: controlPlane, nodeID: report.nodeID,
                            count: count, at: calendar.now),
                        in: work)
                    remaining -= count
                }
            }
            try nodes.recordUsageReport(node: report.nodeID, seq: report.seq, in: work)
            return true
        }
        return HTTPResponse.json(DataPlaneUsageReceipt(seq: report.seq, accepted: accepted).json)
    }
}
