-- Sources: inbound connections such as a polled Bullhorn subscription.
-- config is the connector's JSON configuration without secrets; secrets is
-- the JSON object of its credentials, sealed like endpoint secrets when the
-- store has a keyring. health and checkpoint are written by the node that
-- holds the lease (lease_owner until lease_until, in microseconds), so that
-- only one node polls a source.
CREATE TABLE sources (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    tenant_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    config      TEXT NOT NULL,
    secrets     TEXT NOT NULL,
    enabled     INTEGER NOT NULL,
    health      TEXT NOT NULL DEFAULT '{}',
    checkpoint  TEXT,
    lease_owner TEXT NOT NULL DEFAULT '',
    lease_until INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX sources_tenant ON sources (tenant_id, seq);

-- source_state is each source's small key-value store (e.g. the last
-- status seen of a Bullhorn submission, which Bullhorn does not resend).
CREATE TABLE source_state (
    source_id TEXT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (source_id, key)
) WITHOUT ROWID;
