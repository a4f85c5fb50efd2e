import KonnectStorage

/// The geo node's schema: one geo's objects (T2, C1). Calendar times are SimTime seconds; entity
/// `created_at`/`updated_at` are unix seconds of the calendar too (Kong's format).
enum GeoSchema {
    static let migrations = [
        Migration(
            version: 1,
            sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE org_licenses (org_id TEXT PRIMARY KEY, gateway TEXT NOT NULL, mesh TEXT NOT NULL);
                CREATE TABLE decommissioned_orgs (org_id TEXT PRIMARY KEY, reason TEXT NOT NULL, at INTEGER NOT NULL);
                CREATE TABLE control_planes (
                    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
                    labels TEXT NOT NULL DEFAULT '{}', cluster_type TEXT NOT NULL, auth_type TEXT NOT NULL,
                    cloud_gateway INTEGER NOT NULL DEFAULT 0, proxy_urls TEXT NOT NULL DEFAULT '[]',
                    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
                    config_version INTEGER NOT NULL DEFAULT 1, config_hash TEXT NOT NULL, config_updated_at INTEGER NOT NULL,
                    decommissioned TEXT, UNIQUE (org_id, name));
                CREATE TABLE entities (
                    id TEXT PRIMARY KEY, cp_id TEXT NOT NULL REFERENCES control_planes(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL, name TEXT, body TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
                    UNIQUE (cp_id, kind, name));
                CREATE INDEX entities_by_cp ON entities(cp_id, kind, created_at);
                CREATE TABLE dp_credentials (
                    id TEXT PRIMARY KEY, cp_id TEXT NOT NULL REFERENCES control_planes(id) ON DELETE CASCADE,
                    title TEXT, secret_hash TEXT NOT NULL UNIQUE, cert TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
                CREATE TABLE dp_nodes (
                    id TEXT PRIMARY KEY, cp_id TEXT NOT NULL REFERENCES control_planes(id) ON DELETE CASCADE,
                    hostname TEXT NOT NULL, version TEXT NOT NULL, type TEXT NOT NULL, last_ping INTEGER NOT NULL,
                    config_hash TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
                CREATE TABLE dp_usage_cursors (node_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
                CREATE TABLE portals (
                    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
                    published INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
                    UNIQUE (org_id, name));
                CREATE TABLE usage_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, record TEXT NOT NULL);
                CREATE TABLE mesh_control_planes (
                    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
                    labels TEXT NOT NULL DEFAULT '{}', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
                    config_version INTEGER NOT NULL DEFAULT 1, config_hash TEXT NOT NULL,
                    UNIQUE (org_id, name));
                CREATE TABLE mesh_resources (
                    id TEXT PRIMARY KEY, mesh_cp_id TEXT NOT NULL REFERENCES mesh_control_planes(id) ON DELETE CASCADE,
                    type TEXT NOT NULL, mesh TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
                    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE (mesh_cp_id, type, mesh, name));
                CREATE TABLE zone_tokens (
                    id TEXT PRIMARY KEY, mesh_cp_id TEXT NOT NULL REFERENCES mesh_control_planes(id) ON DELETE CASCADE,
                    zone TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);
                CREATE TABLE zones (
                    mesh_cp_id TEXT NOT NULL REFERENCES mesh_control_planes(id) ON DELETE CASCADE, name TEXT NOT NULL,
                    version TEXT NOT NULL, config_hash TEXT NOT NULL, connected_at INTEGER, disconnected_at INTEGER,
                    last_seen INTEGER NOT NULL, workloads INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (mesh_cp_id, name));
                """),
        // Entity ids are unique per control plane, not per geo: an id used by another organization's
        // control plane must not be detectable (T3).
        Migration(
            version: 2,
            sql: """
                CREATE TABLE entities_by_control_plane (
                    id TEXT NOT NULL, cp_id TEXT NOT NULL REFERENCES control_planes(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL, name TEXT, body TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
                    PRIMARY KEY (cp_id, id), UNIQUE (cp_id, kind, name));
                INSERT INTO entities_by_control_plane SELECT id, cp_id, kind, name, body, created_at, updated_at FROM entities;
                DROP TABLE entities;
                ALTER TABLE entities_by_control_plane RENAME TO entities;
                CREATE INDEX entities_by_cp ON entities(cp_id, kind, created_at);
                """),
        // Control plane groups: each member in at most one group; a group keeps the last configuration
        // without conflicts it sent its data planes.
        Migration(
            version: 3,
            sql: """
                CREATE TABLE group_members (
                    group_id TEXT NOT NULL REFERENCES control_planes(id),
                    member_id TEXT NOT NULL UNIQUE REFERENCES control_planes(id),
                    added_at INTEGER NOT NULL, PRIMARY KEY (group_id, member_id));
                CREATE INDEX group_members_by_group ON group_members(group_id, added_at);
                ALTER TABLE control_planes ADD COLUMN group_config TEXT;
                """),
        // A removed control plane's organization and its data planes' credentials, kept for their late
        // usage reports until the organization is purged (B3, A5: `RemovedControlPlaneStore`).
        Migration(
            version: 4,
            sql: """
                CREATE TABLE removed_control_planes (
                    cp_id TEXT PRIMARY KEY, org_id TEXT NOT NULL, removed_at INTEGER NOT NULL);
                CREATE INDEX removed_control_planes_by_org ON removed_control_planes(org_id);
                CREATE TABLE retired_dp_credentials (
                    secret_hash TEXT PRIMARY KEY, cp_id TEXT NOT NULL, retired_at INTEGER NOT NULL);
                CREATE INDEX retired_dp_credentials_by_cp ON retired_dp_credentials(cp_id);
                """),
        // Issue 12: a write costs what it changes. Each entity and Mesh resource keeps its canonical
        // bytes (a build concatenates them); each control plane keeps a bounded log of item changes
        // per version (deltas for data planes and zones) and the oldest version a delta can start
        // from. The configuration hash is built when something needs it, no longer stored.
        Migration(
            version: 5,
            sql: """
                ALTER TABLE entities ADD COLUMN canonical BLOB;
                ALTER TABLE mesh_resources ADD COLUMN canonical BLOB;
                ALTER TABLE control_planes ADD COLUMN changes_since INTEGER NOT NULL DEFAULT 0;
                UPDATE control_planes SET changes_since = config_version;
                ALTER TABLE control_planes DROP COLUMN config_hash;
                ALTER TABLE mesh_control_planes ADD COLUMN changes_since INTEGER NOT NULL DEFAULT 0;
                UPDATE mesh_control_planes SET changes_since = config_version;
                ALTER TABLE mesh_control_planes DROP COLUMN config_hash;
                CREATE TABLE entity_changes (
                    cp_id TEXT NOT NULL REFERENCES control_planes(id) ON DELETE CASCADE, version INTEGER NOT NULL,
                    collection TEXT NOT NULL, key TEXT NOT NULL, item BLOB,
                    PRIMARY KEY (cp_id, version, collection, key)) WITHOUT ROWID;
                CREATE TABLE mesh_resource_changes (
                    mesh_cp_id TEXT NOT NULL REFERENCES mesh_control_planes(id) ON DELETE CASCADE,
                    version INTEGER NOT NULL, collection TEXT NOT NULL, key TEXT NOT NULL, item BLOB,
                    PRIMARY KEY (mesh_cp_id, version, collection, key)) WITHOUT ROWID;
                """),
    ]
}
