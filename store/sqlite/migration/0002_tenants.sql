-- Tenants, scoped and expiring API keys, and the audit log.

CREATE TABLE tenants (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    retention_days INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
INSERT INTO tenants (id, name, retention_days, created_at, updated_at)
VALUES ('default', 'Default tenant', 30, CAST(unixepoch('subsec') * 1000000 AS INTEGER), CAST(unixepoch('subsec') * 1000000 AS INTEGER));

-- Keys made before scopes existed were the bootstrap key: the operator.
ALTER TABLE api_keys ADD COLUMN scope TEXT NOT NULL DEFAULT 'operator';
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);

CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    tenant_id  TEXT NOT NULL,
    at         INTEGER NOT NULL,
    key_id     TEXT NOT NULL,
    key_name   TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    details    TEXT
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, seq);
