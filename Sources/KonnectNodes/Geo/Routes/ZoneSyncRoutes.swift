import KonnectCore
import KonnectHTTP

/// The geo's side of the zone link, on its Unix socket only (D5): the policies' push stream and the
/// zone's heartbeat, each authorized by the zone token.
struct ZoneSyncRoutes: Sendable {
    let calendar: GeoCalendar
    let grants: CredentialCache<ZoneGrant>
    let zones: ZoneStore
    let feed: ConfigurationFeed
    let stream: PushStream

    var routes: [Router.Route] {
        [
            Router.route("GET", "/internal/v1/zone/sync", unixOnly: true, sync),
            Router.route("POST", "/internal/v1/zone/ping", unixOnly: true, ping),
        ]
    }

    private func grant(_ request: APIRequest) throws -> ZoneGrant {
        guard let grant = try grants.grant(request.bearerToken) else {
            throw APIError(status: 401, detail: "Unauthorized: the zone token is unknown or was revoked")
        }
        return grant
    }

    /// `GET /internal/v1/zone/sync`: a zone's push channel; connect and disconnect times are recorded
    /// like Kuma's ZoneInsight.
    func sync(_ request: APIRequest) throws -> HTTPResponse {
        let grant = try grant(request)
        let claimed = request.http.headers["x-zone-name"] ?? ""
        guard claimed == grant.zone else {
            throw APIError(status: 403, detail: "This token was issued for zone \(grant.zone), not \(claimed)")
        }
        let version = String((request.http.headers["x-zone-version"] ?? "2.9.0").prefix(64))
        let hash = String((request.http.headers["x-config-hash"] ?? DeclarativeConfig.emptyHash).prefix(64))
        let runs = try subscriberVersion(request)
        try zones.connected(grant, version: version, configHash: hash, at: calendar.now.seconds)
        let token = request.bearerToken
        let meshControlPlane = grant.meshControlPlaneID
        return stream.response(
            SyncSubscription(
                subscriberVersion: runs,
                stillAuthorized: { try grants.grant(token)?.meshControlPlaneID == meshControlPlane },
                state: { try feed.state(meshControlPlane) },
                update: { from in try feed.update(meshControlPlane, from: from) },
                hash: { version in try feed.hash(meshControlPlane, version: version) },
                closed: {
                    do {
                        try zones.disconnected(grant, at: calendar.now.seconds)
                    } catch {
                        Log.error("cannot record that zone \(grant.zone) disconnected: \(error)")
                    }
                }))
    }

    /// `POST /internal/v1/zone/ping`: the zone's heartbeat with its policies' hash and workload count.
    func ping(_ request: APIRequest) throws -> HTTPResponse {
        let grant = try grant(request)
        let ping = try request.contract(ZonePing.init(json:))
        try zones.pinged(grant, configHash: ping.configHash, workloads: ping.workloads, at: calendar.now.seconds)
        return .noContent
    }
}
