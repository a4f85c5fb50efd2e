import KonnectCore
import KonnectStorage

/// A control plane of an organization in this geo (C1), with its configuration's version (its hash is
/// built when something needs it: `ConfigurationBuilds`).
struct ControlPlane: Sendable {
    var id: String
    var organizationID: String
    var name: String
    var description: String
    var labels: JSON
    var clusterType: String
    var authType: String
    var cloudGateway: Bool
    var proxyURLs: JSON
    var createdAt: SimTime
    var updatedAt: SimTime
    var configVersion: Int64
    /// The oldest version a delta can start from (the change log reaches back to it).
    var changesSince: Int64
    var configUpdatedAt: SimTime
    /// Why the operator decommissioned this one control plane (D5), nil while commissioned.
    var decommissioned: String?
}

/// What a create or an update sets; nil leaves a field as it is (or at its default on create).
struct ControlPlaneFields: Sendable {
    var name: String?
    var description: String?
    var clusterType: String?
    var authType: String?
    var cloudGateway: Bool?
    var proxyURLs: JSON?
    var labels: JSON?
}

/// `control_planes`: the geo's control planes, scoped by organization (T3).
struct ControlPlaneStore: Sendable {
    let database: GeoDatabase

    static func nameTaken() -> APIError { APIError.conflict("Control Plane with provided name already exists.") }

    /// The control plane with this id in the organization, or nil (another organization's is not found, T3).
    func find(_ id: String, organization: String, in context: (any GeoReading)? = nil) throws -> ControlPlane? {
        try database.reading(context) { db in
            try db.query("SELECT * FROM control_planes WHERE id = ? AND org_id = ?", .text(id), .text(organization))
                .first.map(ControlPlaneStore.controlPlane)
        }
    }

    /// The control plane with this id, whatever its organization (data-plane sync, operator).
    func find(_ id: String, in context: (any GeoReading)? = nil) throws -> ControlPlane? {
        try database.reading(context) { db in
            try db.query("SELECT * FROM control_planes WHERE id = ?", .text(id)).first.map(
                ControlPlaneStore.controlPlane)
        }
    }

    /// The organization's control planes, oldest first.
    func list(organization: String) throws -> [ControlPlane] {
        try database.reading(nil) { db in
            try db.query("SELECT * FROM control_planes WHERE org_id = ? ORDER BY created_at, id", .text(organization))
                .map(ControlPlaneStore.controlPlane)
        }
    }

    /// The ids of the organization's control planes (a purge).
    func ids(organization: String, in context: (any GeoReading)? = nil) throws -> [String] {
        try database.reading(context) { db in
            try db.query("SELECT id FROM control_planes WHERE org_id = ?", .text(organization)).map {
                try $0.text("id")
            }
        }
    }

    /// Control planes whose id or name is `key`, in every organization (the operator's lookup), oldest first.
    func named(_ key: String) throws -> [ControlPlane] {
        try database.reading(nil) { db in
            try db.query(
                "SELECT * FROM control_planes WHERE (id = ? OR name = ?) ORDER BY created_at", .text(key), .text(key)
            ).map(ControlPlaneStore.controlPlane)
        }
    }

    /// A new control plane at configuration version 1 (empty); 409 when the name is taken.
    /// Creates a control plane, with an id reserved earlier (`GeoDatabase.newID`) or a new one.
    func create(
        _ fields: ControlPlaneFields, organization: String, at moment: SimTime, id reserved: String? = nil,
        in work: GeoWork
    ) throws -> ControlPlane {
        guard let name = fields.name else {
            throw APIError.invalid(field: "name", rule: "required", reason: "is required")
        }
        let id = try reserved ?? database.newID(work)
        try unique(or: ControlPlaneStore.nameTaken()) {
            try work.transaction.execute(
                """
                INSERT INTO control_planes(id, org_id, name, description, labels, cluster_type, auth_type, cloud_gateway, proxy_urls,
                    created_at, updated_at, config_version, changes_since, config_updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 1, ?)
                """, .text(id), .text(organization), .text(name), .text(fields.description ?? ""),
                .text((fields.labels ?? [:]).text), .text(fields.clusterType ?? "CLUSTER_TYPE_CONTROL_PLANE"),
                .text(fields.authType ?? "pinned_client_certs"), .bool(fields.cloudGateway ?? false),
                .text((fields.proxyURLs ?? []).text), .time(moment), .time(moment), .time(moment))
        }
        return try require(id, in: work)
    }

    /// Changes the given fields; 404 when a concurrent delete won, 409 when the new name is taken.
    func update(
        _ id: String, organization: String, _ fields: ControlPlaneFields, at moment: SimTime, in work: GeoWork
    ) throws -> ControlPlane {
        let db = work.transaction
        guard try find(id, organization: organization, in: work) != nil else {
            throw ControlPlaneStore.notFound()
        }
        if let value = fields.name {
            try unique(or: ControlPlaneStore.nameTaken()) {
                try db.execute("UPDATE control_planes SET name = ? WHERE id = ?", .text(value), .text(id))
            }
        }
        if let value = fields.description {
            try db.execute("UPDATE control_planes SET description = ? WHERE id = ?", .text(value), .text(id))
        }
        if let value = fields.authType {
            try db.execute("UPDATE control_planes SET auth_type = ? WHERE id = ?", .text(value), .text(id))
        }
        if let value = fields.proxyURLs {
            try db.execute("UPDATE control_planes SET proxy_urls = ? WHERE id = ?", .text(value.text), .text(id))
        }
        if let value = fields.labels {
            try db.execute("UPDATE control_planes SET labels = ? WHERE id = ?", .text(value.text), .text(id))
        }
        try db.execute("UPDATE control_planes SET updated_at = ? WHERE id = ?", .time(moment), .text(id))
        return try require(id, in: work)
    }

    /// A new configuration version (C1): the version goes up by one, and the oldest version a delta can
    /// start from follows it at `SyncPlan.retainedVersions` behind. Returns both, or nil
    /// when the control plane is gone.
    func recordConfiguration(_ id: String, at moment: SimTime, in work: GeoWork) throws
        -> (version: Int64, changesSince: Int64)?
    {
        let row = try work.transaction.query(
            """
            UPDATE control_planes SET config_version = config_version + 1, config_updated_at = ?,
                changes_since = MAX(changes_since, config_version + 1 - ?)
            WHERE id = ? RETURNING config_version, changes_since
            """, .time(moment), .int(SyncPlan.retainedVersions), .text(id)
        ).first
        work.record(.configuration(controlPlaneID: id))
        guard let row else { return nil }
        return (try row.integer("config_version"), try row.integer("changes_since"))
    }

    /// Decommissions (reason) or recommissions (nil) one control plane; false when there is none with this id.
    func setDecommissioned(_ id: String, reason: String?, in work: GeoWork) throws -> Bool {
        let changed = try work.transaction.execute(
            "UPDATE control_planes SET decommissioned = ? WHERE id = ?", .optional(reason), .text(id))
        if changed == 1 { work.record(.configuration(controlPlaneID: id)) }
        return changed == 1
    }

    /// Deletes the control plane row (its entities, credentials and nodes go first, see `ControlPlaneRemoval`).
    func remove(_ id: String, in work: GeoWork) throws {
        try work.transaction.execute("DELETE FROM control_planes WHERE id = ?", .text(id))
        work.record(.configuration(controlPlaneID: id))
    }

    static func notFound() -> APIError { APIError.notFound("The requested control plane was not found.") }

    private func require(_ id: String, in work: GeoWork) throws -> ControlPlane {
        guard let controlPlane = try find(id, in: work) else { throw ControlPlaneStore.notFound() }
        return controlPlane
    }

    private static func controlPlane(_ row: Row) throws -> ControlPlane {
        ControlPlane(
            id: try row.text("id"), organizationID: try row.text("org_id"), name: try row.text("name"),
            description: try row.text("description"), labels: try row.document("labels"),
            clusterType: try row.text("cluster_type"), authType: try row.text("auth_type"),
            cloudGateway: row.bool("cloud_gateway"), proxyURLs: try row.document("proxy_urls"),
            createdAt: try row.moment("created_at"), updatedAt: try row.moment("updated_at"),
            configVersion: try row.integer("config_version"), changesSince: try row.integer("changes_since"),
            configUpdatedAt: try row.moment("config_updated_at"), decommissioned: row.string("decommissioned"))
    }
}
