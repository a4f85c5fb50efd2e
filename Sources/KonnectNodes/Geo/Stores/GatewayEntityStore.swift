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

/// `entities`: each control plane's services, routes, consumers and plugins (C1), each stored with its
/// canonical bytes, computed once when it is written. A write costs what it changes: it notes its item
/// changes, and just before the commit the control plane gets one new version with those changes in
/// its change log (`recordConfiguration`), without reading the rest of the configuration. The
/// configuration and its hash are built when something needs them (`ConfigurationBuilds`).
struct GatewayEntityStore: Sendable {
    let database: GeoDatabase
    let controlPlanes: ControlPlaneStore
    let groups: ControlPlaneGroupStore
    let changes: ConfigurationChangeStore

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

    /// The control plane's configuration items: what a build concatenates. A group's are the union of its
    /// members' it last sent its data planes.
    func items(controlPlane: String, in context: any GeoReading) throws -> [ConfigurationItem] {
        if let stored = try groups.storedConfiguration(group: controlPlane, in: context) {
            return try ConfigurationLayout.gateway.items(of: stored.json)
        }
        return try context.transaction.query(
            "SELECT id, kind, canonical, body FROM entities WHERE cp_id = ? ORDER BY id", .text(controlPlane)
        ).map { row in
            let kind = try GatewayEntityStore.kind(row)
            let id = ConfigurationItemID(collection: kind.collection, key: try row.text("id"))
            // Rows written before canonical bytes were stored get them from their body.
            let bytes = try row.blob("canonical") ?? row.document("body").canonicalBytes
            return ConfigurationItem(id: id, bytes: bytes)
        }
    }

    /// Stores a new entity; `GatewayEntityConflict` when its id or unique field is taken.
    func insert(_ entity: GatewayEntity, controlPlane: String, at moment: SimTime, in work: GeoWork) throws {
        let idTaken = try work.transaction.query(
            "SELECT 1 FROM entities WHERE id = ? AND cp_id = ?", .text(entity.id), .text(controlPlane)
        ).first
        guard idTaken == nil else { throw GatewayEntityConflict.id }
        let item = try GatewayEntityStore.item(entity)
        try unique(or: GatewayEntityConflict.uniqueField) {
            try work.transaction.execute(
                "INSERT INTO entities(id, cp_id, kind, name, body, canonical, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                .text(entity.id), .text(controlPlane), .text(entity.kind.rawValue), .optional(entity.name),
                .text(entity.body.text), .blob(item.bytes), .int(entity.createdAt), .int(moment.seconds))
        }
        configurationChanged(controlPlane, .upsert(item), at: moment, in: work)
    }

    /// Replaces an entity's body; `GatewayEntityConflict.uniqueField` when its new name is taken.
    func replace(_ entity: GatewayEntity, controlPlane: String, at moment: SimTime, in work: GeoWork) throws {
        let item = try GatewayEntityStore.item(entity)
        let replaced = try unique(or: GatewayEntityConflict.uniqueField) {
            try work.transaction.execute(
                "UPDATE entities SET name = ?, body = ?, canonical = ?, updated_at = ? WHERE id = ? AND cp_id = ?",
                .optional(entity.name), .text(entity.body.text), .blob(item.bytes), .int(moment.seconds),
                .text(entity.id), .text(controlPlane))
        }
        if replaced > 0 { configurationChanged(controlPlane, .upsert(item), at: moment, in: work) }
    }

    func delete(_ id: String, controlPlane: String, at moment: SimTime, in work: GeoWork) throws {
        let removed = try work.transaction.query(
            "DELETE FROM entities WHERE id = ? AND cp_id = ? RETURNING kind", .text(id), .text(controlPlane))
        for row in removed {
            let kind = try GatewayEntityStore.kind(row)
            configurationChanged(
                controlPlane, .delete(ConfigurationItemID(collection: kind.collection, key: id)), at: moment, in: work)
        }
    }

    /// Deletes every entity of a control plane that is being removed (no new configuration version).
    func removeAll(controlPlane: String, in work: GeoWork) throws {
        try work.transaction.execute("DELETE FROM entities WHERE cp_id = ?", .text(controlPlane))
    }

    /// Notes the change; the control plane's new version is recorded once per write (C1).
    private func configurationChanged(
        _ controlPlane: String, _ change: ConfigurationChange, at moment: SimTime, in work: GeoWork
    ) {
        work.noteItemChange(change, target: controlPlane)
        work.beforeCommit("configuration:" + controlPlane) { work in
            try recordConfiguration(controlPlane, at: moment, in: work)
        }
    }

    /// Bumps the version and appends the write's item changes to the change log, in the transaction of
    /// the change (C1). Reads nothing else of the configuration.
    func recordConfiguration(_ controlPlane: String, at moment: SimTime, in work: GeoWork) throws {
        guard let recorded = try controlPlanes.recordConfiguration(controlPlane, at: moment, in: work) else { return }
        let merged = ConfigurationDelta(merging: work.itemChanges(of: controlPlane)).changes
        try changes.append(
            merged, target: controlPlane, version: recorded.version, changesSince: recorded.changesSince, in: work)
        if let group = try groups.group(ofMember: controlPlane, in: work) { groupChanged(group, at: moment, in: work) }
    }

    /// A group's members or one of their configurations changed: its union is recomputed once, before
    /// the commit.
    func groupChanged(_ group: String, at moment: SimTime, in work: GeoWork) {
        work.beforeCommit("configuration:" + group) { work in
            try recordGroupConfiguration(group, at: moment, in: work)
        }
    }

    /// The union of the members' configurations becomes the group's next version, unless members
    /// conflict: then its data planes keep the last union without conflicts (Konnect sends no update
    /// until the conflicts are resolved). The group's change log gets the difference between the last
    /// union and the new one, so its data planes receive deltas like any other. Recomputing the union
    /// reads every member's entities: a write to a member costs the size of the group's configuration.
    private func recordGroupConfiguration(_ group: String, at moment: SimTime, in work: GeoWork) throws {
        let merged = try groupMerge(group, in: work)
        guard merged.conflicts.isEmpty else { return }
        let before = try items(controlPlane: group, in: work)
        let after = try ConfigurationLayout.gateway.items(of: merged.config.json)
        try groups.storeConfiguration(group: group, merged.config, in: work)
        guard let recorded = try controlPlanes.recordConfiguration(group, at: moment, in: work) else { return }
        try changes.append(
            ConfigurationDelta(from: before, to: after).changes, target: group, version: recorded.version,
            changesSince: recorded.changesSince, in: work)
    }

    /// The members' configurations as the group would combine them now, with their conflicts.
    func groupMerge(_ group: String, in context: (any GeoReading)? = nil) throws -> ControlPlaneGroup.Merged {
        ControlPlaneGroup.merge(
            try groups.members(of: group, in: context).map {
                GroupMemberConfiguration(controlPlaneID: $0, config: try ownConfig(controlPlane: $0, in: context))
            })
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

    /// The configuration item of an entity: keyed by its id, its canonical bytes.
    static func item(_ entity: GatewayEntity) throws -> ConfigurationItem {
        try ConfigurationLayout.gateway.item(entity.body, in: entity.kind.collection)
    }

    private static func kind(_ row: Row) throws -> GatewayEntityKind {
        let kind = try row.text("kind")
        guard let parsed = GatewayEntityKind(rawValue: kind) else {
            throw StoredRowError(column: "kind", expected: "an entity kind (got \(kind))")
        }
        return parsed
    }

    private static func entity(_ row: Row) throws -> GatewayEntity {
        GatewayEntity(
            id: try row.text("id"), kind: try kind(row), name: row.string("name"), body: try row.document("body"),
            createdAt: try row.integer("created_at"))
    }
}

extension DeclarativeConfig {
    /// The hash Kong reports for this configuration: MD5 of the canonical JSON, 32 zeros when empty.
    var kongHash: String { hash(digest: Secrets.md5Hex) }
}
