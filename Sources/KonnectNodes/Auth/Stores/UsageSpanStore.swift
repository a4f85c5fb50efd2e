import KonnectCore
import KonnectStorage

/// What a usage span measures (B3).
enum UsageSpanKind: String, Sendable {
    /// A Gateway service existing in a control plane (service-days).
    case service
    /// A published Dev Portal (portal-days).
    case portal
}

/// Services and Dev Portals of an organization over time.
struct OrganizationUsage: Sendable {
    var services: [UsageSpan]
    var portals: [UsageSpan]
}

/// Usage spans (`usage_spans`), scoped by organization, geo and (services) control plane (B3, T3).
struct UsageSpanStore {
    /// A span starts; a span already started at that moment is kept.
    func start(
        _ work: UnitOfWork, _ kind: UsageSpanKind, organizationID: String, geo: String, scope: String,
        objectID: String, name: String, at moment: SimTime
    ) throws {
        try work.tx.execute(
            "INSERT OR IGNORE INTO usage_spans(kind, org_id, geo, scope, object_id, name, start_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            .text(kind.rawValue), .text(organizationID), .text(geo), .text(scope), .text(objectID), .text(name),
            .time(moment))
    }

    /// The open span of the object ends.
    func end(
        _ work: UnitOfWork, _ kind: UsageSpanKind, organizationID: String, geo: String, scope: String,
        objectID: String, at moment: SimTime
    ) throws {
        try work.tx.execute(
            "UPDATE usage_spans SET end_at = ? WHERE kind = ? AND org_id = ? AND geo = ? AND scope = ? AND object_id = ? AND end_at IS NULL",
            .time(moment), .text(kind.rawValue), .text(organizationID), .text(geo), .text(scope), .text(objectID))
    }

    /// Every span of the organization, by start.
    func usage(_ db: Transaction, organizationID: String) throws -> OrganizationUsage {
        var usage = OrganizationUsage(services: [], portals: [])
        for row in try db.query(
            "SELECT kind, object_id, name, geo, scope, start_at, end_at FROM usage_spans WHERE org_id = ? ORDER BY start_at",
            .text(organizationID))
        {
            let span = UsageSpan(
                id: row.string("object_id") ?? "", name: row.string("name") ?? "", geo: row.string("geo") ?? "",
                start: row.time("start_at") ?? SimTime(seconds: 0), end: row.time("end_at"),
                scope: row.string("scope") ?? "")
            switch UsageSpanKind(rawValue: row.string("kind") ?? "") {
            case .service: usage.services.append(span)
            case .portal: usage.portals.append(span)
            case nil: break
            }
        }
        return usage
    }
}
