-- Backfills: sending the current record of every matching entity to one
-- endpoint as <entity>.snapshot events (see hirehook.Backfill).
--
-- cursor_entity/cursor_id are the last record done; a page's events,
-- deliveries and the cursor commit together, so a backfill resumes from
-- here and sends nothing twice. lease_owner and lease_until say which node
-- runs it.
CREATE TABLE backfills (
    id              text PRIMARY KEY,
    tenant_id       text NOT NULL,
    endpoint_id     text NOT NULL,
    entities        jsonb NOT NULL,
    filter          text NOT NULL DEFAULT '',
    rate_per_second integer NOT NULL,
    state           text NOT NULL,
    cursor_entity   text NOT NULL DEFAULT '',
    cursor_id       text NOT NULL DEFAULT '',
    scanned         bigint NOT NULL DEFAULT 0,
    sent            bigint NOT NULL DEFAULT 0,
    skipped         bigint NOT NULL DEFAULT 0,
    error           text NOT NULL DEFAULT '',
    lease_owner     text,
    lease_until     timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    finished_at     timestamptz
);
CREATE INDEX backfills_endpoint ON backfills (tenant_id, endpoint_id, created_at);
CREATE INDEX backfills_running ON backfills (state) WHERE state = 'running';
