import KonnectCore
import KonnectStorage

/// `entity_changes` and `mesh_resource_changes`: each control plane's (or Mesh global control
/// plane's) item changes by version, so that a subscriber at version v is sent the changes after v
/// instead of the whole configuration (C2). A write appends what it changed in its own transaction;
/// versions at or below the control plane's `changes_since` are pruned, which bounds the log to the
/// last `SyncPlan.retainedVersions` versions. Rows go with their control plane (ON DELETE CASCADE).
struct ConfigurationChangeStore: Sendable {
    let database: GeoDatabase
    /// `entity_changes` or `mesh_resource_changes`.
    let table: String
    /// The column naming the control plane (`cp_id`, `mesh_cp_id`).
    let targetColumn: String

    static func gateway(_ database: GeoDatabase) -> ConfigurationChangeStore {
        ConfigurationChangeStore(database: database, table: "entity_changes", targetColumn: "cp_id")
    }

    static func mesh(_ database: GeoDatabase) -> ConfigurationChangeStore {
        ConfigurationChangeStore(database: database, table: "mesh_resource_changes", targetColumn: "mesh_cp_id")
    }

    /// Appends the changes that make `version`, and drops the versions a delta can no longer start after.
    func append(
        _ changes: [ConfigurationChange], target: String, version: Int64, changesSince: Int64, in work: GeoWork
    ) throws {
        for change in changes {
            let item: SQLValue
            switch change {
            case .upsert(let upserted): item = .blob(upserted.bytes)
            case .delete: item = .null
            }
            try work.transaction.execute(
                "INSERT OR REPLACE INTO \(table)(\(targetColumn), version, collection, key, item) VALUES (?, ?, ?, ?, ?)",
                .text(target), .int(version), .text(change.id.collection), .text(change.id.key), item)
        }
        try work.transaction.execute(
            "DELETE FROM \(table) WHERE \(targetColumn) = ? AND version <= ?", .text(target), .int(changesSince))
    }

    /// The changes of the versions after `after` up to `through`, oldest first.
    func changes(target: String, after: Int64, through: Int64, in context: any GeoReading) throws
        -> [ConfigurationChange]
    {
        try context.transaction.query(
            "SELECT collection, key, item FROM \(table) WHERE \(targetColumn) = ? AND version > ? AND version <= ? ORDER BY version",
            .text(target), .int(after), .int(through)
        ).map { row in
            let id = ConfigurationItemID(collection: try row.text("collection"), key: try row.text("key"))
            if let bytes = row.blob("item") { return .upsert(ConfigurationItem(id: id, bytes: bytes)) }
            return .delete(id)
        }
    }
}
