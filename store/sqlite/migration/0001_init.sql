-- Times are INTEGER microseconds since the Unix epoch, UTC: they sort and
-- compare as numbers and match PostgreSQL's timestamp precision.

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);

CREATE TABLE endpoints (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    tenant_id       TEXT NOT NULL,
    url             TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    event_types     TEXT NOT NULL,           -- JSON array of patterns
    headers         TEXT NOT NULL DEFAULT '{}',
    disabled        INTEGER NOT NULL DEFAULT 0,
    disabled_reason TEXT NOT NULL DEFAULT '',
    secrets         TEXT NOT NULL,           -- JSON array of hirehook.Secret
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX endpoints_tenant ON endpoints (tenant_id, seq);

-- events keeps the rendered webhook body (payload) rather than data and
-- changes separately: every attempt signs exactly these bytes, and data and
-- changes are read back out of it.
CREATE TABLE events (
    seq             INTEGER PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    id              TEXT NOT NULL,
    type            TEXT NOT NULL,
    occurred_at     INTEGER NOT NULL,
    received_at     INTEGER NOT NULL,
    source          TEXT NOT NULL DEFAULT '',
    subject_entity  TEXT NOT NULL,
    subject_id      TEXT NOT NULL,
    idempotency_key TEXT,
    deliveries      INTEGER NOT NULL,
    payload         BLOB NOT NULL,
    UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX events_idempotency ON events (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_subject ON events (tenant_id, subject_entity, subject_id, seq);

CREATE TABLE records (
    tenant_id     TEXT NOT NULL,
    entity        TEXT NOT NULL,
    id            TEXT NOT NULL,
    version       INTEGER NOT NULL,
    deleted       INTEGER NOT NULL DEFAULT 0,
    data          BLOB NOT NULL,
    last_event_id TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, entity, id)
) WITHOUT ROWID;

-- deliveries is the queue. The two partial indexes keep claiming cheap
-- however long the history grows: they hold only the rows that can be due.
CREATE TABLE deliveries (
    seq              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    tenant_id        TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    endpoint_id      TEXT NOT NULL,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER,
    last_attempt_at  INTEGER,
    last_status      INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('pending', 'retrying');
CREATE INDEX deliveries_leased ON deliveries (lease_expires_at) WHERE state = 'delivering';
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, seq);
CREATE INDEX deliveries_event ON deliveries (tenant_id, event_id);

CREATE TABLE attempts (
    delivery_id   TEXT NOT NULL,
    number        INTEGER NOT NULL,
    id            TEXT NOT NULL,
    started_at    INTEGER NOT NULL,
    duration_us   INTEGER NOT NULL,
    status_code   INTEGER NOT NULL DEFAULT 0,
    response_body TEXT NOT NULL DEFAULT '',
    error_class   TEXT NOT NULL DEFAULT '',
    error         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (delivery_id, number)
) WITHOUT ROWID;
