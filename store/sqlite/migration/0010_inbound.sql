-- Inbound requests: the raw log of what push sources received at
-- POST /in/{source_id} (see hirehook.InboundRequest). Times are UTC
-- microseconds, as everywhere in this store.
--
-- header is the JSON object of the request's headers; event_ids the JSON
-- array of the events a request became, and events its length (summed by
-- InboundStats). body is NULL when it is not kept (rejected, duplicate,
-- erased). claim_owner and claim_until say which node normalises a
-- received request.
CREATE TABLE inbound_requests (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    tenant_id    TEXT NOT NULL,
    source_id    TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    status       TEXT NOT NULL,
    dedupe_key   TEXT NOT NULL DEFAULT '',
    duplicate_of TEXT NOT NULL DEFAULT '',
    vendor_event TEXT NOT NULL DEFAULT '',
    header       TEXT NOT NULL DEFAULT '{}',
    body         BLOB,
    body_size    INTEGER NOT NULL DEFAULT 0,
    event_ids    TEXT NOT NULL DEFAULT '[]',
    events       INTEGER NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT '',
    attempts     INTEGER NOT NULL DEFAULT 0,
    processed_at INTEGER,
    due_at       INTEGER,
    claim_owner  TEXT NOT NULL DEFAULT '',
    claim_until  INTEGER
);
CREATE INDEX inbound_requests_source ON inbound_requests (tenant_id, source_id, seq);
-- One request per vendor delivery: a retry that finds its key taken is
-- stored as a duplicate (which, like a rejected request, the index leaves
-- out). The index, not a lookup, makes this hold under concurrent inserts.
CREATE UNIQUE INDEX inbound_requests_dedupe ON inbound_requests (tenant_id, source_id, dedupe_key)
    WHERE dedupe_key <> '' AND status NOT IN ('duplicate', 'rejected');
CREATE INDEX inbound_requests_due ON inbound_requests (due_at) WHERE status = 'received';
CREATE INDEX inbound_requests_retention ON inbound_requests (tenant_id, received_at);
