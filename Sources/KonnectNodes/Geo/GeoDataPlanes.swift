import KonnectCore
import KonnectHTTP
import KonnectSecurity
import KonnectStorage
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Data-plane credentials, the node list, and the sync stream that pushes configurations (C2, P4).
extension GeoNode {
    var dataPlaneRoutes: [Router.Route] {
        let base = "/v2/control-planes/{controlPlaneId}"
        return [
            Router.route("GET", base + "/dp-client-certificates") { request in
                let (_, id) = try self.controlPlaneScope(request, write: false)
                let rows = try self.db.read { db in
                    try db.query("SELECT * FROM dp_credentials WHERE cp_id = ? ORDER BY created_at, id", .text(id))
                }
                return HTTPResponse.json([
                    "items": .array(rows.map { self.credentialJSON($0, secret: nil) }),
                    "page": ["total_count": .int(rows.count)],
                ])
            },
            Router.route("POST", base + "/dp-client-certificates", createCredential),
            Router.route("GET", base + "/dp-client-certificates/{certificateId}") { request in
                let (_, id) = try self.controlPlaneScope(request, write: false)
                guard
                    let row = try self.db.read({ db in
                        try db.query(
                            "SELECT * FROM dp_credentials WHERE id = ? AND cp_id = ?",
                            .text(request.parameter("certificateId")), .text(id)
                        ).first
                    })
                else { throw APIError.notFound("The requested certificate was not found.") }
                return HTTPResponse.json(["item": self.credentialJSON(row, secret: nil)])
            },
            Router.route("DELETE", base + "/dp-client-certificates/{certificateId}") { request in
                let (_, id) = try self.controlPlaneScope(request, write: true)
                let removed = try self.db.write { db in
                    try db.execute(
                        "DELETE FROM dp_credentials WHERE id = ? AND cp_id = ?",
                        .text(request.parameter("certificateId")), .text(id))
                }
                guard removed == 1 else { throw APIError.notFound("The requested certificate was not found.") }
                self.configChanged.fire()
                return .noContent
            },
            Router.route("GET", base + "/nodes") { request in
                let (_, id) = try self.controlPlaneScope(request, write: false)
                let rows = try self.db.read { db in
                    try db.query("SELECT * FROM dp_nodes WHERE cp_id = ? ORDER BY created_at, id", .text(id))
                }
                return HTTPResponse.json([
                    "items": .array(rows.map(self.nodeJSON)), "page": ["total_count": .int(rows.count)],
                ])
            },
            Router.route("GET", base + "/nodes/{nodeId}") { request in
                let (_, id) = try self.controlPlaneScope(request, write: false)
                guard
                    let row = try self.db.read({ db in
                        try db.query(
                            "SELECT * FROM dp_nodes WHERE id = ? AND cp_id = ?", .text(request.parameter("nodeId")),
                            .text(id)
                        ).first
                    })
                else { throw APIError.notFound("The requested node was not found.") }
                return HTTPResponse.json(["item": self.nodeJSON(row)])
            },
            Router.route("DELETE", base + "/nodes/{nodeId}") { request in
                let (_, id) = try self.controlPlaneScope(request, write: true)
                let nodeID = request.parameter("nodeId")
                let removed = try self.db.write { db in
                    try db.execute("DELETE FROM dp_nodes WHERE id = ? AND cp_id = ?", .text(nodeID), .text(id))
                }
                guard removed == 1 else { throw APIError.notFound("The requested node was not found.") }
                self.nodePings.withLock { $0[nodeID] = nil }
                return .noContent
            },
        ]
    }

    func credentialJSON(_ row: Row, secret: String?) -> JSON {
        [
            "id": .optional(row.string("id")), "title": .optional(row.string("title")),
            "cert": .string(secret ?? row.string("cert") ?? ""),
            "cert_fingerprint": .string(String((row.string("secret_hash") ?? "").prefix(16))),
            "created_at": .optional(row.int("created_at")), "updated_at": .optional(row.int("updated_at")),
        ]
    }

    /// `POST .../dp-client-certificates`: pins a credential. Given a `cert`, that string is the credential
    /// (as a pinned certificate would be); without one, the geo issues a secret (`kdp_...`), shown once.
    func createCredential(_ request: APIRequest) throws -> HTTPResponse {
        let (caller, id) = try self.controlPlaneScope(request, write: true)
        var reader = try ObjectReader(request.jsonOrEmpty())
        let cert = reader.string("cert", nullable: false, minLength: 16, maxLength: 16384)
        let title = reader.string("title", maxLength: 255)
        try reader.finish()
        let (row, secret) = try issueCredential(controlPlaneID: id, cert: cert, title: title, at: caller.now)
        return HTTPResponse.json(["item": credentialJSON(row, secret: secret)], status: 201)
    }

    func issueCredential(controlPlaneID: String, cert: String?, title: String?, at moment: SimTime) throws -> (
        Row, String
    ) {
        let secret = cert ?? Secrets.token(prefix: "kdp_")
        let row = try db.write { db -> Row in
            let credentialID = try ids.next(db)
            do {
                try db.execute(
                    "INSERT INTO dp_credentials(id, cp_id, title, secret_hash, cert, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    .text(credentialID), .text(controlPlaneID), .optional(title), .text(Secrets.sha256Hex(secret)),
                    .optional(cert), .time(moment), .time(moment))
            } catch let error as DatabaseError where error.isConstraintViolation {
                throw APIError.conflict("This certificate is already pinned")
            }
            return try db.single(
                "SELECT * FROM dp_credentials WHERE id = ?", .text(credentialID),
                missing: GeoNode.controlPlaneNotFound())
        }
        return (row, secret)
    }

    func nodeJSON(_ row: Row) -> JSON {
        let id = row.string("id") ?? ""
        let live = nodePings.withLock { $0[id] }
        return [
            "id": .string(id), "version": .optional(row.string("version")),
            "hostname": .optional(row.string("hostname")),
            "last_ping": .int(live?.lastPing ?? row.int("last_ping") ?? 0), "type": .optional(row.string("type")),
            "created_at": .optional(row.int("created_at")), "updated_at": .optional(row.int("updated_at")),
            "config_hash": .string(live?.configHash ?? row.string("config_hash") ?? ""),
            "compatibility_status": ["state": "COMPATIBILITY_STATE_FULLY_COMPATIBLE", "issues": []],
        ]
    }

    /// The control plane a data-plane credential was issued for; nil when unknown or revoked.
    func controlPlaneForCredential(_ credential: String?) -> String? {
        guard let credential, credential.count <= 16384 else { return nil }
        let hash = Secrets.sha256Hex(credential)
        return try? db.read { db in
            try db.query("SELECT cp_id FROM dp_credentials WHERE secret_hash = ?", .text(hash)).first?.string("cp_id")
        }
    }

    /// `controlPlaneForCredential`, computed once per change generation.
    func cachedControlPlane(forCredential credential: String) -> String? {
        let generation = configChanged.current
        if let hit = credentialSnapshots.withLock({ $0.generation == generation ? $0.map[credential] : nil }) {
            return hit
        }
        let value = controlPlaneForCredential(credential)
        credentialSnapshots.withLock { snapshot in
            if snapshot.generation != generation { snapshot = (generation, [:]) }
            snapshot.map[credential] = .some(value)
        }
        return value
    }

    /// `syncState`, computed once per change generation.
    func cachedSyncState(_ controlPlaneID: String) -> SyncState {
        let generation = configChanged.current
        if let hit = syncSnapshots.withLock({ $0[controlPlaneID] }), hit.generation == generation { return hit.value }
        let value = syncState(controlPlaneID)
        syncSnapshots.withLock { $0[controlPlaneID] = (generation, value) }
        return value
    }

    /// Where a control plane stands for its data planes.
    enum SyncState: Equatable {
        case active(version: Int64)
        case decommissioned(reason: String)
        case deleted
    }

    func syncState(_ controlPlaneID: String) -> SyncState {
        guard
            let state = try? db.read({ db -> SyncState in
                guard
                    let row = try db.query(
                        "SELECT org_id, config_version, decommissioned FROM control_planes WHERE id = ?",
                        .text(controlPlaneID)
                    ).first
                else {
                    return .deleted
                }
                if let reason = try db.query(
                    "SELECT reason FROM decommissioned_orgs WHERE org_id = ?", .text(row.string("org_id") ?? "")
                ).first?.string("reason") {
                    return .decommissioned(
                        reason: "organization deactivated (\(reason)): the control plane is decommissioned")
                }
                if let reason = row.string("decommissioned") { return .decommissioned(reason: reason) }
                return .active(version: row.int("config_version") ?? 0)
            })
        else { return .deleted }
        return state
    }

    /// The config message for a version, built once and shared by every stream of the control plane.
    func configMessage(_ controlPlaneID: String, version: Int64) throws -> [UInt8] {
        if let cached = configCache.withLock({ $0[controlPlaneID] }), cached.version == version { return cached.bytes }
        let message = try db.read { db -> (Int64, [UInt8])? in
            guard let row = try db.query("SELECT * FROM control_planes WHERE id = ?", .text(controlPlaneID)).first
            else { return nil }
            let license =
                try db.query("SELECT gateway FROM org_licenses WHERE org_id = ?", .text(row.string("org_id") ?? ""))
                .first?.json("gateway") ?? .null
            let config = try declarativeConfig(db, controlPlaneID: controlPlaneID)
            let actual = row.int("config_version") ?? 0
            let body: JSON = [
                "type": "config", "control_plane_id": .string(controlPlaneID), "version": .int(actual),
                "hash": .optional(row.string("config_hash")), "config": config.json, "license": license,
            ]
            return (actual, body.bytes + [0x0A])
        }
        guard let (actual, bytes) = message else { throw APIError.notFound("The control plane was deleted") }
        configCache.withLock { $0[controlPlaneID] = (actual, bytes) }
        return bytes
    }

    /// `GET /internal/v1/dp/sync`: a data plane's push channel (see `pushStream`).
    func syncStream(_ request: APIRequest) throws -> HTTPResponse {
        guard let controlPlaneID = controlPlaneForCredential(request.bearerToken) else {
            throw APIError(status: 401, detail: "Unauthorized: the data-plane credential is unknown or was revoked")
        }
        let nodeID = request.http.headers["x-node-id"] ?? ""
        try requireUUID(nodeID, "X-Node-Id")
        let hostname = String((request.http.headers["x-node-hostname"] ?? "unknown").prefix(255))
        let version = String((request.http.headers["x-node-version"] ?? "3.9.0").prefix(64))
        let hash = String((request.http.headers["x-config-hash"] ?? DeclarativeConfig.emptyHash).prefix(64))
        try registerNode(nodeID, controlPlaneID: controlPlaneID, hostname: hostname, version: version, configHash: hash)
        let credential = request.bearerToken ?? ""
        return pushStream(
            stillAuthorized: { [self] in cachedControlPlane(forCredential: credential) == controlPlaneID },
            state: { [self] in cachedSyncState(controlPlaneID) },
            message: { [self] version in try configMessage(controlPlaneID, version: version) })
    }

    func registerNode(_ nodeID: String, controlPlaneID: String, hostname: String, version: String, configHash: String)
        throws
    {
        let now = wallSeconds()
        try db.write { db in
            try db.execute(
                """
                INSERT INTO dp_nodes(id, cp_id, hostname, version, type, last_ping, config_hash, created_at, updated_at)
                VALUES (?, ?, ?, ?, 'kong-proxy', ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET cp_id = excluded.cp_id, hostname = excluded.hostname, version = excluded.version,
                    last_ping = excluded.last_ping, config_hash = excluded.config_hash, updated_at = excluded.updated_at
                """, .text(nodeID), .text(controlPlaneID), .text(hostname), .text(version), .int(now),
                .text(configHash), .int(now), .int(now))
        }
        nodePings.withLock { $0[nodeID] = NodePing(lastPing: now, configHash: configHash) }
    }

    /// Wall-clock seconds: `last_ping` is operational, not business time.
    func wallSeconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec)
    }

    /// `POST /internal/v1/dp/ping`: the data plane's heartbeat with the hash it runs (kept in memory,
    /// flushed to the node records every few seconds).
    func ping(_ request: APIRequest) throws -> HTTPResponse {
        guard let controlPlaneID = controlPlaneForCredential(request.bearerToken) else {
            throw APIError(status: 401, detail: "Unauthorized: the data-plane credential is unknown or was revoked")
        }
        var reader = try ObjectReader(request.json())
        let nodeID = reader.string("node_id", required: true, nullable: false, maxLength: 64)
        let hash = reader.string("config_hash", required: true, nullable: false, maxLength: 64)
        _ = reader.raw("version")
        _ = reader.raw("state")
        try reader.finish()
        guard let nodeID, let hash else { throw APIError.badRequest("Invalid request") }
        let known = try db.read { db in
            try db.query("SELECT 1 FROM dp_nodes WHERE id = ? AND cp_id = ?", .text(nodeID), .text(controlPlaneID))
                .first != nil
        }
        guard known else { throw APIError.notFound("Unknown node: reconnect the sync stream to register") }
        nodePings.withLock { $0[nodeID] = NodePing(lastPing: wallSeconds(), configHash: hash) }
        return .noContent
    }

    /// Writes the in-memory pings to the node records.
    func flushPings() {
        let pings = nodePings.withLock { $0 }
        guard !pings.isEmpty else { return }
        _ = try? db.write { db in
            for (id, ping) in pings {
                try db.execute(
                    "UPDATE dp_nodes SET last_ping = ?, config_hash = ?, updated_at = ? WHERE id = ? AND (last_ping != ? OR config_hash != ?)",
                    .int(ping.lastPing), .text(ping.configHash), .int(ping.lastPing), .text(id), .int(ping.lastPing),
                    .text(ping.configHash))
            }
        }
    }

    /// `POST /internal/v1/dp/usage`: proxied-call counts from a data plane, numbered per node; a number
    /// at or below the last one seen is acknowledged without counting (B3, exactly once).
    func dataPlaneUsage(_ request: APIRequest) throws -> HTTPResponse {
        guard let controlPlaneID = controlPlaneForCredential(request.bearerToken) else {
            throw APIError(status: 401, detail: "Unauthorized: the data-plane credential is unknown or was revoked")
        }
        var reader = try ObjectReader(request.json())
        let nodeID = reader.string("node_id", required: true, nullable: false, maxLength: 64)
        let seq = reader.int("seq", required: true, nullable: false, min: 1)
        guard let counts = reader.raw("counts")?.arrayValue, counts.count <= 10_000 else {
            throw APIError.invalid(
                field: "counts", rule: "is_array", reason: "must be an array of at most 10000 entries")
        }
        try reader.finish()
        guard let nodeID, let seq else { throw APIError.badRequest("Invalid request") }
        let duplicate = try db.write { db -> Bool in
            let last =
                try db.query("SELECT last_seq FROM dp_usage_cursors WHERE node_id = ?", .text(nodeID)).first?.int(
                    "last_seq") ?? 0
            guard seq > last else { return true }
            // A report counts at most a billion calls per entry (a data plane reports every half second).
            var total: Int64 = 0
            for entry in counts {
                guard let count = entry["count"]?.intValue, (0...1_000_000_000).contains(count) else {
                    throw APIError.invalid(
                        field: "counts", rule: "invalid", reason: "every count must be an integer from 0 to 1000000000")
                }
                total += count
            }
            if total > 0,
                let org = try db.query("SELECT org_id FROM control_planes WHERE id = ?", .text(controlPlaneID)).first?
                    .string("org_id")
            {
                try queueUsage(
                    db,
                    [
                        "type": "api_calls", "organization_id": .string(org),
                        "control_plane_id": .string(controlPlaneID),
                        "node_id": .string(nodeID), "count": .int(total),
                    ])
            }
            try db.execute(
                "INSERT INTO dp_usage_cursors(node_id, last_seq) VALUES (?, ?) ON CONFLICT(node_id) DO UPDATE SET last_seq = excluded.last_seq",
                .text(nodeID), .int(seq))
            return false
        }
        if !duplicate { usageQueued.fire() }
        return HTTPResponse.json(["accepted": .bool(!duplicate), "duplicate": .bool(duplicate), "seq": .int(seq)])
    }
}

/// A data plane's latest heartbeat.
struct NodePing: Sendable {
    var lastPing: Int64
    var configHash: String
}
