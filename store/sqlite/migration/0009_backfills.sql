-- Backfills: sending the current record of every matching entity to one
-- endpoint as <entity>.snapshot events (see hirehook.Backfill).
--
-- entities is a JSON array. cursor_entity/cursor_id are the last record
-- done; a page's events, deliveries and the cursor commit together, so a
-- backfill resumes from here and sends nothing twice. lease_owner and
-- lease_until say which node runs it.
CREATE TABLE backfills (
    id              TEXT NOT NULL PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    endpoint_id     TEXT NOT NULL,
    entities        TEXT NOT NULL,
    filter          TEXT NOT NULL DEFAULT '',
    rate_per_second INTEGER NOT NULL,
    state           TEXT NOT NULL,
    cursor_entity   TEXT NOT NULL DEFAULT '',
    cursor_id       TEXT NOT NULL DEFAULT '',
    scanned         INTEGER NOT NULL DEFAULT 0,
    sent            INTEGER NOT NULL DEFAULT 0,
    skipped         INTEGER NOT NULL DEFAULT 0,
    error           TEXT NOT NULL DEFAULT '',
    lease_owner     TEXT,
    lease_until     INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    finished_at     INTEGER
) WITHOUT ROWID;
CREATE INDEX backfills_endpoint ON backfills (tenant_id, endpoint_id, created_at);
CREATE INDEX backfills_running ON backfills (state) WHERE state = 'running';
