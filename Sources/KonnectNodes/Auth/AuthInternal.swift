import KonnectCore
import KonnectHTTP
import KonnectStorage

/// The node-to-node API geos call over the auth node's Unix socket (never served on TCP): token
/// introspection (T5), the event outbox that carries decommissions (D4), and usage reports (B3).
extension AuthNode {
    var internalRoutes: [Router.Route] {
        [
            Router.route("POST", "/internal/v1/introspect", unixOnly: true, introspect),
            Router.route("GET", "/internal/v1/events", unixOnly: true, events),
            Router.route("POST", "/internal/v1/usage", unixOnly: true, ingestUsage),
            Router.route("GET", "/internal/v1/clock", unixOnly: true) { _ in
                HTTPResponse.json(["now": .string(self.now.iso8601)])
            },
        ]
    }

    /// Resolves a token for a geo: who, which organization, which roles, the calendar's moment and the
    /// organization's Gateway license (which the geo passes on to data planes, P4).
    func introspect(_ request: APIRequest) throws -> HTTPResponse {
        var reader = try ObjectReader(request.json())
        let token = reader.string("token", required: true, nullable: false, maxLength: 1024)
        try reader.finish()
        guard let token else { throw APIError.badRequest("Invalid request") }
        let principal = try self.principal(token: token)
        let licenses = try db.read { db in
            (
                try gatewayLicense(db, organizationID: principal.organizationID),
                try meshLicense(db, organizationID: principal.organizationID)
            )
        }
        return HTTPResponse.json([
            "user": [
                "id": .string(principal.userID), "email": .string(principal.email),
                "full_name": .string(principal.fullName),
            ],
            "organization": [
                "id": .string(principal.organizationID), "name": .string(principal.organizationName), "state": "active",
                "plan": .string(principal.plan), "owner_id": .string(principal.ownerID),
                "home_geo": .string(principal.homeGeo),
            ],
            "roles": .array(principal.roles.map(\.json)),
            "token_kind": .string(principal.tokenKind.rawValue),
            "now": .string(now.iso8601),
            "gateway_license": licenses.0,
            "mesh_license": licenses.1,
        ])
    }

    /// `GET /internal/v1/events?geo=eu&after=N&wait_ms=M`: outbox events after N, waiting up to M ms for
    /// one. `after` doubles as the geo's acknowledgement of everything up to N (its durable cursor).
    func events(_ request: APIRequest) throws -> HTTPResponse {
        guard let geo = request.query("geo"), configuration.geos.contains(geo) else {
            throw APIError.invalid(
                field: "geo", rule: "enum", reason: "must be one of \(configuration.geos.joined(separator: ", "))")
        }
        guard let after = Int64(request.query("after") ?? "0"), after >= 0 else {
            throw APIError.invalid(field: "after", rule: "invalid", reason: "must be a non-negative integer")
        }
        let wait = min(max(Int(request.query("wait_ms") ?? "0") ?? 0, 0), 30_000)
        let moment = now
        try db.write { db in
            try db.execute(
                "INSERT INTO geo_cursors(geo, cursor, seen_at) VALUES (?, ?, ?) ON CONFLICT(geo) DO UPDATE SET cursor = MAX(cursor, excluded.cursor), seen_at = excluded.seen_at",
                .text(geo), .int(after), .time(moment))
            try confirmPurges(db, at: moment)
        }
        let deadline = Monotonic.now + wait
        while true {
            let generation = outboxSignal.current
            let rows = try db.read { db in
                try db.query("SELECT * FROM outbox WHERE seq > ? ORDER BY seq LIMIT 100", .int(after))
            }
            let remaining = deadline - Monotonic.now
            if !rows.isEmpty || remaining <= 0 || stopping.withLock({ $0 }) {
                return HTTPResponse.json([
                    "events": .array(
                        rows.map {
                            [
                                "seq": .optional($0.int("seq")), "kind": .optional($0.string("kind")),
                                "organization_id": .optional($0.string("org_id")), "payload": $0.json("payload"),
                                "at": $0.time("created_at")?.json ?? .null,
                            ]
                        }),
                    "now": .string(now.iso8601),
                ])
            }
            outboxSignal.wait(after: generation, timeoutMilliseconds: min(remaining, 1000))
        }
    }

    /// `POST /internal/v1/usage`: usage records from a geo, each numbered by the geo's outbox. Records at
    /// or below the geo's last applied number are acknowledged and ignored, so a retry after a crash
    /// (of either side) never counts twice (B3).
    func ingestUsage(_ request: APIRequest) throws -> HTTPResponse {
        var reader = try ObjectReader(request.json())
        let geo = reader.string("geo", required: true, nullable: false, allowed: configuration.geos)
        let records = reader.raw("records")?.arrayValue
        try reader.finish()
        guard let geo, let records else {
            throw APIError.invalid(field: "records", rule: "is_array", reason: "must be an array")
        }
        let moment = now
        let (applied, skipped) = try db.write { db -> (Int, Int) in
            var last =
                try db.query("SELECT last_seq FROM usage_receipts WHERE geo = ?", .text(geo)).first?.int("last_seq")
                ?? 0
            var applied = 0
            var skipped = 0
            for record in records {
                guard let seq = record["seq"]?.intValue, seq > 0 else {
                    throw APIError.invalid(
                        field: "records", rule: "invalid", reason: "every record needs a positive seq")
                }
                guard seq > last else {
                    skipped += 1
                    continue
                }
                try apply(record, geo: geo, db, at: moment)
                last = seq
                applied += 1
            }
            try db.execute(
                "INSERT INTO usage_receipts(geo, last_seq) VALUES (?, ?) ON CONFLICT(geo) DO UPDATE SET last_seq = excluded.last_seq",
                .text(geo), .int(last))
            return (applied, skipped)
        }
        return HTTPResponse.json(["applied": .int(applied), "duplicates": .int(skipped)])
    }

    private func apply(_ record: JSON, geo: String, _ db: Transaction, at moment: SimTime) throws {
        guard let type = record["type"]?.stringValue, let org = record["organization_id"]?.stringValue else {
            throw APIError.invalid(
                field: "records", rule: "invalid", reason: "every record needs type and organization_id")
        }
        let objectID = record["id"]?.stringValue ?? ""
        let scope = record["control_plane_id"]?.stringValue ?? ""
        let at = record["at"]?.stringValue.flatMap(SimTime.init(iso8601:)) ?? moment
        switch type {
        case "service_started", "portal_published":
            try db.execute(
                "INSERT OR IGNORE INTO usage_spans(kind, org_id, geo, scope, object_id, name, start_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                .text(type == "service_started" ? "service" : "portal"), .text(org), .text(geo), .text(scope),
                .text(objectID),
                .text(record["name"]?.stringValue ?? objectID), .time(at))
        case "service_ended", "portal_unpublished":
            try db.execute(
                "UPDATE usage_spans SET end_at = ? WHERE kind = ? AND org_id = ? AND geo = ? AND scope = ? AND object_id = ? AND end_at IS NULL",
                .time(at), .text(type == "service_ended" ? "service" : "portal"), .text(org), .text(geo), .text(scope),
                .text(objectID))
        case "api_calls":
            let count = record["count"]?.intValue ?? 0
            guard count > 0 else { return }
            guard count <= 1_000_000_000_000 else {
                throw APIError.invalid(
                    field: "records", rule: "max", reason: "an api_calls record counts at most 10^12 calls")
            }
            // Calls are stamped with the calendar moment the auth node records them and attributed to the
            // billing cycle open then; while the organization is not billed (deactivated), to none (B3, D3).
            let billing = try db.query("SELECT state, next_cycle FROM organizations WHERE id = ?", .text(org)).first
            let cycle: SQLValue =
                billing?.string("state") == OrganizationState.active.rawValue
                ? .optional(billing?.int("next_cycle")) : .null
            try db.execute(
                "INSERT INTO api_calls(org_id, geo, at, count, cycle) VALUES (?, ?, ?, ?, ?)", .text(org), .text(geo),
                .time(moment), .int(count), cycle)
            try db.execute("UPDATE organizations SET last_api_call_at = ? WHERE id = ?", .time(moment), .text(org))
        default:
            throw APIError.invalid(field: "records", rule: "enum", reason: "unknown record type \(type)")
        }
    }
}
