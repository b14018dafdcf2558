-- Inbound requests: the raw log of what push sources received at
-- POST /in/{source_id} (see hirehook.InboundRequest and store/sqlite's
-- 0010_inbound.sql).
--
-- header is the JSON text of the request's headers; event_ids the JSON
-- array of the events a request became, and events its length. body is
-- NULL when it is not kept (rejected, duplicate, erased).
CREATE TABLE inbound_requests (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           text NOT NULL UNIQUE,
    tenant_id    text NOT NULL,
    source_id    text NOT NULL,
    received_at  timestamptz NOT NULL,
    status       text NOT NULL,
    dedupe_key   text NOT NULL DEFAULT '',
    duplicate_of text NOT NULL DEFAULT '',
    vendor_event text NOT NULL DEFAULT '',
    header       text NOT NULL DEFAULT '{}',
    body         bytea,
    body_size    bigint NOT NULL DEFAULT 0,
    event_ids    text NOT NULL DEFAULT '[]',
    events       integer NOT NULL DEFAULT 0,
    error        text NOT NULL DEFAULT '',
    attempts     integer NOT NULL DEFAULT 0,
    processed_at timestamptz,
    due_at       timestamptz,
    claim_owner  text NOT NULL DEFAULT '',
    claim_until  timestamptz
);
CREATE INDEX inbound_requests_source ON inbound_requests (tenant_id, source_id, seq);
-- One request per vendor delivery: InboundCreate inserts with ON CONFLICT
-- on this index, so two concurrent retries cannot both be received.
CREATE UNIQUE INDEX inbound_requests_dedupe ON inbound_requests (tenant_id, source_id, dedupe_key)
    WHERE dedupe_key <> '' AND status NOT IN ('duplicate', 'rejected');
CREATE INDEX inbound_requests_due ON inbound_requests (due_at) WHERE status = 'received';
CREATE INDEX inbound_requests_retention ON inbound_requests (tenant_id, received_at);
