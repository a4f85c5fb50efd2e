import KonnectCore
import KonnectSecurity
import KonnectStorage

/// A Kong entity of a control plane as stored: its body is what the Admin API returns.
struct GatewayEntity: Sendable {
    var id: String
    var kind: GatewayEntityKind
    /// The value of the kind's unique field (`name`, `username`, `instance_name`), if set.
    var name: String?
    var body: JSON
    var createdAt: Int64
}

/// Why an entity could not be written: its id or its unique field is taken in the control plane.
enum GatewayEntityConflict: Error {
    case id
    case uniqueField
}

/// `entities`: each control plane's services, routes, consumers and plugins (C1). Every write marks the
/// control plane's configuration as changed; the new version and hash are computed once, just before
/// the write commits (`recordConfiguration`), however many entities the write touched.
struct GatewayEntityStore: Sendable {
    let database: GeoDatabase
    let controlPlanes: ControlPlaneStore
    let groups: ControlPlaneGroupStore

    /// The entity of this kind whose id (a UUID) or unique name is `key`.
    func find(_ kind: GatewayEntityKind, _ key: String, controlPlane: String, in context: (any GeoReading)? = nil)
        throws -> GatewayEntity?
    {
        try database.reading(context) { db in
            if IdentifierSource.isUUID(key),
                let row = try db.query(
                    "SELECT * FROM entities WHERE id = ? AND cp_id = ? AND kind = ?", .text(key.lowercased()),
                    .text(controlPlane), .text(kind.rawValue)
                ).first
            {
                return try GatewayEntityStore.entity(row)
            }
            return try db.query(
                "SELECT * FROM entities WHERE cp_id = ? AND kind = ? AND name = ?", .text(controlPlane),
                .text(kind.rawValue), .text(key)
            ).first.map(GatewayEntityStore.entity)
        }
    }

    /// The control plane's entities of one kind, oldest first.
    func list(_ kind: GatewayEntityKind, controlPlane: String, in context: (any GeoReading)? = nil) throws
        -> [GatewayEntity]
    {
        try database.reading(context) { db in
            try db.query(
                "SELECT * FROM entities WHERE cp_id = ? AND kind = ? ORDER BY created_at, id", .text(controlPlane),
                .text(kind.rawValue)
            ).map(GatewayEntityStore.entity)
        }
    }

    /// Every entity of the control plane.
    func all(controlPlane: String, in context: (any GeoReading)? = nil) throws -> [GatewayEntity] {
        try database.reading(context) { db in
            try db.query("SELECT * FROM entities WHERE cp_id = ?", .text(controlPlane)).map(GatewayEntityStore.entity)
        }
    }

    /// How many entities the control plane has, of every kind.
    func count(controlPlane: String) throws -> Int {
        try database.reading(nil) { db in
            Int(
                try db.query("SELECT COUNT(*) AS n FROM entities WHERE cp_id = ?", .text(controlPlane)).first?.int("n")
                    ?? 0)
        }
    }

    /// The control plane's full configuration (C1, C2); a group's is the union of its members' it last
    /// sent its data planes.
    func declarativeConfig(controlPlane: String, in context: (any GeoReading)? = nil) throws -> DeclarativeConfig {
        if let stored = try groups.storedConfiguration(group: controlPlane, in: context) { return stored }
        return try ownConfig(controlPlane: controlPlane, in: context)
    }

    /// The configuration of the control plane's own entities.
    private func ownConfig(controlPlane: String, in context: (any GeoReading)?) throws -> DeclarativeConfig {
        var collections: [GatewayEntityKind: [JSON]] = [:]
        for entity in try all(controlPlane: controlPlane, in: context) {
            collections[entity.kind, default: []].append(entity.body)
        }
        return DeclarativeConfig(
            services: collections[.service] ?? [], routes: collections[.route] ?? [],
            consumers: collections[.consumer] ?? [], plugins: collections[.plugin] ?? [])
    }

    /// Stores a new entity; `GatewayEntityConflict` when its id or unique field is taken.
    func insert(_ entity: GatewayEntity, controlPlane: String, at moment: SimTime, in work: GeoWork) throws {
        let idTaken = try work.transaction.query(
            "SELECT 1 FROM entities WHERE id = ? AND cp_id = ?", .text(entity.id), .text(controlPlane)
        ).first
        guard idTaken == nil else { throw GatewayEntityConflict.id }
        try unique(or: GatewayEntityConflict.uniqueField) {
            try work.transaction.execute(
                "INSERT INTO entities(id, cp_id, kind, name, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                .text(entity.id), .text(controlPlane), .text(entity.kind.rawValue), .optional(entity.name),
                .text(entity.body.text), .int(entity.createdAt), .int(moment.seconds))
        }
        configurationChanged(controlPlane, at: moment, in: work)
    }

    /// Replaces an entity's body; `GatewayEntityConflict.uniqueField` when its new name is taken.
    func replace(_ entity: GatewayEntity, controlPlane: String, at moment: SimTime, in work: GeoWork) throws {
        try unique(or: GatewayEntityConflict.uniqueField) {
            try work.transaction.execute(
                "UPDATE entities SET name = ?, body = ?, updated_at = ? WHERE id = ? AND cp_id = ?",
                .optional(entity.name), .text(entity.body.text), .int(moment.seconds), .text(entity.id),
                .text(controlPlane))
        }
        configurationChanged(controlPlane, at: moment, in: work)
    }

    func delete(_ id: String, controlPlane: String, at moment: SimTime, in work: GeoWork) throws {
        try work.transaction.execute("DELETE FROM entities WHERE id = ? AND cp_id = ?", .text(id), .text(controlPlane))
        configurationChanged(controlPlane, at: moment, in: work)
    }

    /// Deletes every entity of a control plane that is being removed (no new configuration version).
    func removeAll(controlPlane: String, in work: GeoWork) throws {
        try work.transaction.execute("DELETE FROM entities WHERE cp_id = ?", .text(controlPlane))
    }

    /// The new configuration version of a changed control plane, once per write (C1).
    private func configurationChanged(_ controlPlane: String, at moment: SimTime, in work: GeoWork) {
        work.beforeCommit("configuration:" + controlPlane) {
            try recordConfiguration(controlPlane, at: moment, in: work)
        }
    }

    /// Bumps the version and recomputes the hash of the full declarative configuration, in the
    /// transaction of the change (C1). Issue 12 (incremental sync) changes this one place.
    func recordConfiguration(_ controlPlane: String, at moment: SimTime, in work: GeoWork) throws {
        let config = try declarativeConfig(controlPlane: controlPlane, in: work)
        try controlPlanes.recordConfiguration(controlPlane, hash: config.kongHash, at: moment, in: work)
        if let group = try groups.group(ofMember: controlPlane, in: work) { groupChanged(group, at: moment, in: work) }
    }

    /// A group's members or one of their configurations changed: its union is recomputed once, before
    /// the commit.
    func groupChanged(_ group: String, at moment: SimTime, in work: GeoWork) {
        work.beforeCommit("configuration:" + group) {
            try recordGroupConfiguration(group, at: moment, in: work)
        }
    }

    /// The union of the members' configurations becomes the group's next version, unless members
    /// conflict: then its data planes keep the last union without conflicts (Konnect sends no update
    /// until the conflicts are resolved).
    private func recordGroupConfiguration(_ group: String, at moment: SimTime, in work: GeoWork) throws {
        let members = try groups.members(of: group, in: work).map {
            GroupMemberConfiguration(controlPlaneID: $0, config: try ownConfig(controlPlane: $0, in: work))
        }
        let merged = ControlPlaneGroup.merge(members)
        guard merged.conflicts.isEmpty else { return }
        try groups.storeConfiguration(group: group, merged.config, in: work)
        try controlPlanes.recordConfiguration(group, hash: merged.config.kongHash, at: moment, in: work)
    }

    /// The members' configurations as the group would combine them now, with their conflicts.
    func groupMerge(_ group: String, in context: (any GeoReading)? = nil) throws -> ControlPlaneGroup.Merged {
        ControlPlaneGroup.merge(
            try groups.members(of: group, in: context).map {
                GroupMemberConfiguration(controlPlaneID: $0, config: try ownConfig(controlPlane: $0, in: context))
            })
    }

    private static func entity(_ row: Row) throws -> GatewayEntity {
        let kind = try row.text("kind")
        guard let parsed = GatewayEntityKind(rawValue: kind) else {
            throw StoredRowError(column: "kind", expected: "an entity kind (got \(kind))")
        }
        return GatewayEntity(
            id: try row.text("id"), kind: parsed, name: row.string("name"), body: try row.document("body"),
            createdAt: try row.integer("created_at"))
    }
}

extension DeclarativeConfig {
    /// The hash Kong reports for this configuration: MD5 of the canonical JSON, 32 zeros when empty.
    var kongHash: String { hash(digest: Secrets.md5Hex) }
}
