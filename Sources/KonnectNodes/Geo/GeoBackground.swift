import KonnectCore
import KonnectHTTP
import KonnectStorage

/// The geo's two background loops: following the auth node's event outbox (decommissions,
/// reactivations and purges, applied exactly once with a durable cursor: D4), and delivering usage
/// records to the auth node in order (B3).
extension GeoNode {
    /// Reads events after the durable cursor with a long poll; applies each in one transaction with the
    /// cursor, so a crash re-reads at most what was not applied. Retries with backoff while the auth node
    /// is unreachable, so a geo that was down or cut off catches up when it comes back.
    func followAuthEvents() {
        let client = HTTPClient(
            endpoint: .unix(configuration.authSocket), link: LinkFault.linkName(from: name, to: "auth"),
            faults: configuration.faultsFile.map { FaultFile(path: $0) }, connectTimeoutMilliseconds: 500,
            timeoutMilliseconds: 25_000)
        var backoff = Backoff(seed: (configuration.seed ?? 0) ^ SeededRandom.hash(name + "events"))
        while !isStopping {
            let cursor =
                (try? db.read { db in
                    try db.query("SELECT value FROM meta WHERE key = 'events_cursor'").first?.int("value")
                }).flatMap { $0 } ?? 0
            do {
                let response = try client.send("GET", "/internal/v1/events?geo=\(name)&after=\(cursor)&wait_ms=20000")
                guard response.status == 200, let body = response.json else {
                    throw APIError.unavailable("events answered \(response.status)")
                }
                if let now = body["now"]?.stringValue.flatMap(SimTime.init(iso8601:)) { noteCalendar(now) }
                for event in body["events"]?.arrayValue ?? [] {
                    try apply(event)
                }
                backoff.reset()
            } catch {
                let delay = backoff.next()
                sleepMilliseconds(delay)
            }
        }
    }

    /// Applies one outbox event and advances the cursor, atomically.
    private func apply(_ event: JSON) throws {
        guard let seq = event["seq"]?.intValue, let kind = event["kind"]?.stringValue,
            let org = event["organization_id"]?.stringValue
        else { return }
        let moment = event["at"]?.stringValue.flatMap(SimTime.init(iso8601:)) ?? lastKnownNow.withLock { $0 }
        try db.write { db in
            let cursor = try db.query("SELECT value FROM meta WHERE key = 'events_cursor'").first?.int("value") ?? 0
            guard seq > cursor else { return }
            switch kind {
            case "organization.deactivated":
                let reason = event["payload"]?["reason"]?.stringValue ?? "deactivated"
                try db.execute(
                    "INSERT OR REPLACE INTO decommissioned_orgs(org_id, reason, at) VALUES (?, ?, ?)", .text(org),
                    .text(reason), .time(moment))
                Log.info(
                    "organization \(org) deactivated (\(reason)): its control planes in \(name) are decommissioned")
            case "organization.reactivated":
                try db.execute("DELETE FROM decommissioned_orgs WHERE org_id = ?", .text(org))
                if let gateway = event["payload"]?["gateway_license"], let mesh = event["payload"]?["mesh_license"] {
                    try db.execute(
                        "INSERT INTO org_licenses(org_id, gateway, mesh) VALUES (?, ?, ?) ON CONFLICT(org_id) DO UPDATE SET gateway = excluded.gateway, mesh = excluded.mesh",
                        .text(org), .text(gateway.text), .text(mesh.text))
                }
                Log.info("organization \(org) reactivated: its control planes in \(name) are recommissioned")
            case "organization.deleted":
                try purge(db, organizationID: org, at: moment)
                Log.info("organization \(org) deleted: its objects in \(name) are purged")
            default:
                break
            }
            try db.execute(
                "INSERT INTO meta(key, value) VALUES ('events_cursor', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                .text(String(seq)))
        }
        configCache.withLock { $0 = [:] }
        rememberedLicenses.withLock { $0[org] = nil }
        configChanged.fire()
        usageQueued.fire()
    }

    /// Removes every object of an organization from this geo (A5).
    func purge(_ db: Transaction, organizationID: String, at moment: SimTime) throws {
        for row in try db.query("SELECT id FROM control_planes WHERE org_id = ?", .text(organizationID)) {
            try removeControlPlane(db, id: row.string("id") ?? "", organizationID: organizationID, at: moment)
        }
        for row in try db.query("SELECT * FROM portals WHERE org_id = ? AND published = 1", .text(organizationID)) {
            try queueUsage(
                db,
                [
                    "type": "portal_unpublished", "organization_id": .string(organizationID),
                    "id": .optional(row.string("id")), "at": moment.json,
                ])
        }
        try db.execute("DELETE FROM portals WHERE org_id = ?", .text(organizationID))
        try db.execute("DELETE FROM mesh_control_planes WHERE org_id = ?", .text(organizationID))
        try db.execute("DELETE FROM org_licenses WHERE org_id = ?", .text(organizationID))
        try db.execute("DELETE FROM decommissioned_orgs WHERE org_id = ?", .text(organizationID))
    }

    /// Sends queued usage records to the auth node, oldest first, each with its sequence number; deletes
    /// them once acknowledged. Nothing is lost while the auth node is down: the records wait here.
    func reportUsage() {
        var backoff = Backoff(seed: (configuration.seed ?? 0) ^ SeededRandom.hash(name + "usage"))
        var lastFlush = Monotonic.now
        while !isStopping {
            if Monotonic.now - lastFlush >= 2000 {
                flushPings()
                lastFlush = Monotonic.now
            }
            let generation = usageQueued.current
            let rows =
                (try? db.read { db in try db.query("SELECT seq, record FROM usage_outbox ORDER BY seq LIMIT 500") })
                ?? []
            guard !rows.isEmpty else {
                usageQueued.wait(after: generation, timeoutMilliseconds: 1000)
                continue
            }
            var records: [JSON] = []
            for row in rows {
                var record = row.json("record")
                record["seq"] = .optional(row.int("seq"))
                records.append(record)
            }
            let last = rows.last?.int("seq") ?? 0
            do {
                let response = try auth.json(
                    "POST", "/internal/v1/usage", ["geo": .string(name), "records": .array(records)],
                    timeoutMilliseconds: 5000)
                guard response.status == 200 else {
                    throw APIError.unavailable("usage answered \(response.status): \(response.text.prefix(200))")
                }
                try db.write { db in try db.execute("DELETE FROM usage_outbox WHERE seq <= ?", .int(last)) }
                backoff.reset()
            } catch {
                sleepMilliseconds(backoff.next())
            }
        }
    }
}
