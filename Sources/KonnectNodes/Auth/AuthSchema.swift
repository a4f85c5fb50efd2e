import KonnectStorage

/// The auth node's schema. Every table is the global, shared state of rule T1; times are calendar
/// seconds (SimTime) unless a column says otherwise.
enum AuthSchema {
    static let migrations = [
        Migration(
            version: 1,
            sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE clock (id INTEGER PRIMARY KEY CHECK (id = 1), now INTEGER NOT NULL, target INTEGER);
                CREATE TABLE users (
                    id TEXT PRIMARY KEY, email TEXT NOT NULL, email_key TEXT NOT NULL UNIQUE, full_name TEXT NOT NULL,
                    preferred_name TEXT, password_hash TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1,
                    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
                CREATE TABLE organizations (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL, owner_id TEXT NOT NULL REFERENCES users(id),
                    plan TEXT NOT NULL, home_geo TEXT NOT NULL, state TEXT NOT NULL,
                    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, retention_days INTEGER NOT NULL,
                    deactivated_at INTEGER, deactivation_reason TEXT,
                    trial_ends_at INTEGER, trial_closed INTEGER NOT NULL DEFAULT 0,
                    credits_granted INTEGER NOT NULL DEFAULT 0, credits_used INTEGER NOT NULL DEFAULT 0,
                    credits_expired INTEGER NOT NULL DEFAULT 0, payment_method TEXT,
                    next_cycle INTEGER NOT NULL DEFAULT 0, billing_from INTEGER,
                    last_login_at INTEGER, last_api_call_at INTEGER);
                CREATE TABLE memberships (
                    org_id TEXT NOT NULL REFERENCES organizations(id), user_id TEXT NOT NULL REFERENCES users(id),
                    created_at INTEGER NOT NULL, PRIMARY KEY (org_id, user_id));
                CREATE INDEX memberships_by_user ON memberships(user_id);
                CREATE TABLE sessions (
                    token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, org_id TEXT NOT NULL,
                    created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
                CREATE TABLE access_tokens (
                    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, org_id TEXT NOT NULL, name TEXT NOT NULL,
                    token_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
                    expires_at INTEGER, revoked_at INTEGER, last_used_at INTEGER);
                CREATE TABLE invites (
                    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, email TEXT NOT NULL, email_key TEXT NOT NULL,
                    token_hash TEXT NOT NULL UNIQUE, invited_by TEXT NOT NULL, created_at INTEGER NOT NULL,
                    accepted_at INTEGER);
                CREATE TABLE teams (
                    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, name TEXT NOT NULL, description TEXT,
                    labels TEXT NOT NULL DEFAULT '{}', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
                    UNIQUE (org_id, name));
                CREATE TABLE team_members (
                    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE, user_id TEXT NOT NULL,
                    PRIMARY KEY (team_id, user_id));
                CREATE TABLE role_assignments (
                    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, user_id TEXT, team_id TEXT REFERENCES teams(id) ON DELETE CASCADE,
                    role_name TEXT NOT NULL, entity_type_name TEXT NOT NULL, entity_id TEXT NOT NULL,
                    entity_region TEXT NOT NULL, created_at INTEGER NOT NULL);
                CREATE INDEX roles_by_org ON role_assignments(org_id);
                CREATE TABLE licenses (
                    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, product TEXT NOT NULL, created_at INTEGER NOT NULL,
                    ended_at INTEGER, UNIQUE (org_id, product));
                CREATE TABLE subscriptions (
                    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, name TEXT NOT NULL, state TEXT NOT NULL,
                    started_at INTEGER NOT NULL, ended_at INTEGER, UNIQUE (org_id, name));
                CREATE TABLE email_locks (
                    email_key TEXT PRIMARY KEY, email TEXT NOT NULL, org_id TEXT NOT NULL, locked_at INTEGER NOT NULL);
                CREATE TABLE state_history (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, org_id TEXT NOT NULL, state TEXT NOT NULL,
                    reason TEXT NOT NULL, actor TEXT NOT NULL, at INTEGER NOT NULL);
                CREATE INDEX history_by_org ON state_history(org_id);
                CREATE TABLE outbox (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, org_id TEXT NOT NULL,
                    payload TEXT NOT NULL, created_at INTEGER NOT NULL);
                CREATE TABLE geo_cursors (geo TEXT PRIMARY KEY, cursor INTEGER NOT NULL, seen_at INTEGER NOT NULL);
                CREATE TABLE usage_receipts (geo TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
                CREATE TABLE usage_spans (
                    kind TEXT NOT NULL, org_id TEXT NOT NULL, geo TEXT NOT NULL, object_id TEXT NOT NULL,
                    name TEXT NOT NULL, start_at INTEGER NOT NULL, end_at INTEGER,
                    PRIMARY KEY (kind, geo, object_id, start_at));
                CREATE INDEX spans_by_org ON usage_spans(org_id, kind);
                CREATE TABLE api_calls (org_id TEXT NOT NULL, geo TEXT NOT NULL, at INTEGER NOT NULL, count INTEGER NOT NULL);
                CREATE INDEX calls_by_org ON api_calls(org_id, at);
                CREATE TABLE invoices (
                    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, cycle INTEGER NOT NULL, period_start INTEGER NOT NULL,
                    period_end INTEGER NOT NULL, body TEXT NOT NULL, subtotal INTEGER NOT NULL,
                    credits_applied INTEGER NOT NULL, total INTEGER NOT NULL, issued_at INTEGER NOT NULL);
                CREATE INDEX invoices_by_org ON invoices(org_id, period_start);
                CREATE TABLE support_credentials (token_hash TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
                """),
        // API calls are attributed to the billing cycle open when they are recorded (NULL: the organization
        // was not being billed), and to the invoice that charged them.
        Migration(
            version: 2,
            sql: """
                ALTER TABLE api_calls ADD COLUMN cycle INTEGER;
                ALTER TABLE api_calls ADD COLUMN invoice_id TEXT;
                CREATE INDEX calls_by_cycle ON api_calls(org_id, cycle, invoice_id);
                """),
        // When a Plus organization last became free (its payment method removed): inactivity counts from then.
        Migration(version: 3, sql: "ALTER TABLE organizations ADD COLUMN free_since INTEGER;"),
        // Deactivation revokes an organization's sessions and tokens: find them without a scan.
        Migration(
            version: 4,
            sql: """
                CREATE INDEX sessions_by_org ON sessions(org_id, user_id);
                CREATE INDEX access_tokens_by_org ON access_tokens(org_id, user_id);
                """),
        // Usage spans belong to an organization and, for services, a control plane: entity ids are unique
        // per control plane only, so another organization's id must not end a span (B3, T3).
        Migration(
            version: 5,
            sql: """
                CREATE TABLE usage_spans_scoped (
                    kind TEXT NOT NULL, org_id TEXT NOT NULL, geo TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '',
                    object_id TEXT NOT NULL, name TEXT NOT NULL, start_at INTEGER NOT NULL, end_at INTEGER,
                    PRIMARY KEY (kind, org_id, geo, scope, object_id, start_at));
                INSERT INTO usage_spans_scoped SELECT kind, org_id, geo, '', object_id, name, start_at, end_at FROM usage_spans;
                DROP TABLE usage_spans;
                ALTER TABLE usage_spans_scoped RENAME TO usage_spans;
                CREATE INDEX spans_by_org ON usage_spans(org_id, kind);
                ALTER TABLE organizations ADD COLUMN reactivated_at INTEGER;
                """),
        // Pending invites can be revoked, and an email has at most one pending invite per organization
        // (a second one is a 409): older duplicates from before are revoked.
        Migration(
            version: 6,
            sql: """
                ALTER TABLE invites ADD COLUMN revoked_at INTEGER;
                UPDATE invites SET revoked_at = created_at WHERE accepted_at IS NULL AND EXISTS (
                    SELECT 1 FROM invites newer WHERE newer.org_id = invites.org_id
                        AND newer.email_key = invites.email_key AND newer.accepted_at IS NULL
                        AND (newer.created_at, newer.id) > (invites.created_at, invites.id));
                CREATE UNIQUE INDEX invites_pending ON invites(org_id, email_key)
                    WHERE accepted_at IS NULL AND revoked_at IS NULL;
                """),
    ]
}
