import KonnectCore
import KonnectHTTP

/// The geo's side of the data-plane link, on its Unix socket and TLS link only (C2, B3): the push stream,
/// the heartbeat and the usage reports, each authorized by the data plane's credential: its bearer secret
/// over a Unix socket, the fingerprint of its pinned certificate over TLS. Usage reports are
/// also accepted with the credential of a control plane removed since (until its organization is purged):
/// calls counted before the removal are billed all the same.
struct DataPlaneSyncRoutes: Sendable {
    let database: GeoDatabase
    let calendar: GeoCalendar
    /// Live credentials: the sync stream and the heartbeat.
    let credentials: CredentialCache<String>
    /// Live and retired credentials (`RemovedControlPlaneStore`): usage reports only.
    let usageCredentials: CredentialCache<String>
    let controlPlanes: ControlPlaneStore
    let removedControlPlanes: RemovedControlPlaneStore
    let nodes: DataPlaneNodeStore
    let presence: NodePresence
    let usage: UsageOutboxStore
    let feed: ConfigurationFeed
    let stream: PushStream

    var routes: [Router.Route] {
        [
            Router.route("GET", "/internal/v1/dp/sync", unixOnly: true, sync),
            Router.route("POST", "/internal/v1/dp/ping", unixOnly: true, ping),
            Router.route("POST", "/internal/v1/dp/usage", unixOnly: true, report),
        ]
    }

    /// What the data plane presents: the fingerprint of its certificate over TLS, its bearer secret otherwise.
    static func credential(_ request: APIRequest) -> String? {
        request.peer?.fingerprint ?? request.bearerToken
    }

    /// The control plane the request's credential was issued for; 401 when unknown or revoked.
    private func controlPlane(_ request: APIRequest, in credentials: CredentialCache<String>) throws -> String {
        guard let controlPlane = try credentials.grant(DataPlaneSyncRoutes.credential(request)) else {
            throw APIError(status: 401, detail: "Unauthorized: the data-plane credential is unknown or was revoked")
        }
        return controlPlane
    }

    /// `GET /internal/v1/dp/sync`: registers the node and opens its push stream. A data plane whose control
    /// plane was removed while it was away (its credential retired, not unknown) is told so on the stream, as
    /// a connected one is, and stops proxying (503) instead of retrying a refused credential forever.
    func sync(_ request: APIRequest) throws -> HTTPResponse {
        let credential = DataPlaneSyncRoutes.credential(request)
        if try credentials.grant(credential) == nil, try usageCredentials.grant(credential) != nil {
            return stream.response(
                SyncSubscription(
                    subscriberVersion: nil, stillAuthorized: { false }, state: { .deleted },
                    update: { _ in throw APIError.notFound("The control plane was deleted") },
                    hash: { _ in throw APIError.notFound("The control plane was deleted") }))
        }
        let controlPlane = try controlPlane(request, in: credentials)
        let node = request.http.headers["x-node-id"] ?? ""
        try requireUUID(node, "X-Node-Id")
        let hostname = String((request.http.headers["x-node-hostname"] ?? "unknown").prefix(255))
        let version = String((request.http.headers["x-node-version"] ?? "3.9.0").prefix(64))
        let hash = String((request.http.headers["x-config-hash"] ?? DeclarativeConfig.emptyHash).prefix(64))
        let runs = try subscriberVersion(request)
        try database.write { work in
            try nodes.register(
                node, controlPlane: controlPlane, hostname: hostname, version: version, configHash: hash,
                at: calendar.now.seconds, in: work)
        }
        return stream.response(
            SyncSubscription(
                subscriberVersion: runs,
                stillAuthorized: { try credentials.grant(credential) == controlPlane },
                state: { try feed.state(controlPlane) },
                update: { from in try feed.update(controlPlane, from: from) },
                hash: { version in try feed.hash(controlPlane, version: version) }))
    }

    /// `POST /internal/v1/dp/ping`: the data plane's heartbeat with the hash it runs (noted in memory,
    /// written to the node list every few seconds).
    func ping(_ request: APIRequest) throws -> HTTPResponse {
        let controlPlane = try controlPlane(request, in: credentials)
        let ping = try request.contract(DataPlanePing.init(json:))
        guard try nodes.isRegistered(ping.nodeID, controlPlane: controlPlane) else {
            throw APIError.notFound("Unknown node: reconnect the sync stream to register")
        }
        presence.note(ping.nodeID, configHash: ping.configHash)
        return .noContent
    }

    /// `POST /internal/v1/dp/usage`: proxied-call counts from a data plane, numbered per node; a number
    /// at or below the last one counted is acknowledged without counting (B3, exactly once). The control
    /// plane may have been removed since the calls were counted: they count for its organization when
    /// they arrive (the auth node bills nothing while the organization is inactive, D3).
    func report(_ request: APIRequest) throws -> HTTPResponse {
        let controlPlane = try controlPlane(request, in: usageCredentials)
        let report = try request.contract(DataPlaneUsageReport.init(json:))
        let accepted = try database.write { work -> Bool in
            guard report.seq > (try nodes.lastUsageReport(node: report.nodeID, in: work)) else { return false }
            let organization =
                try controlPlanes.find(controlPlane, in: work)?.organizationID
                ?? removedControlPlanes.organization(of: controlPlane, in: work)
            if report.total > 0, let organization {
                // One record carries at most `UsageRecord.maximumCount` calls.
                var remaining = report.total
                while remaining > 0 {
                    let count = min(remaining, UsageRecord.maximumCount)
                    try usage.queue(
                        .apiCalls(
                            organizationID: organization, controlPlaneID: controlPlane, nodeID: report.nodeID,
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

/// `X-Config-Version`: the configuration version a data plane or zone runs when it connects (absent
/// when it has none or wants the full configuration); a value that is not a version is a 400.
func subscriberVersion(_ request: APIRequest) throws -> Int64? {
    guard let text = request.http.headers["x-config-version"] else { return nil }
    guard let version = Int64(text), version >= 0 else {
        throw APIError.invalid(
            field: "X-Config-Version", rule: "invalid", reason: "must be a configuration version (an integer >= 0)")
    }
    return version
}
