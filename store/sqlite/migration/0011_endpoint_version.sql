-- endpoint_version counts changes to the endpoints that ingest reads (which
-- exist, which are enabled, what they subscribe to, filter and redact).
-- EventIngest keeps each tenant's enabled endpoints in memory and checks this
-- one row inside its write transaction instead of reading and decoding every
-- endpoint on every commit. Triggers bump it in the same transaction as the
-- change, so the check holds for any writer of the file (another process,
-- `hirehook endpoint`, an import), not only this Store. (A table of its own
-- rather than a store_meta row: store_meta is empty on a file that needs no
-- scrub, see 0003.)
CREATE TABLE endpoint_version (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO endpoint_version (id, value) VALUES (1, 0);

CREATE TRIGGER endpoints_version_insert AFTER INSERT ON endpoints
BEGIN
    UPDATE endpoint_version SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER endpoints_version_delete AFTER DELETE ON endpoints
BEGIN
    UPDATE endpoint_version SET value = value + 1 WHERE id = 1;
END;

-- Only the columns ingest reads: the per-attempt failing_since updates must
-- not invalidate the cache.
CREATE TRIGGER endpoints_version_update
AFTER UPDATE OF seq, id, tenant_id, event_types, disabled, ordered, filter, redact ON endpoints
BEGIN
    UPDATE endpoint_version SET value = value + 1 WHERE id = 1;
END;
