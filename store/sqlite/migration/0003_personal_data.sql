-- Candidates' personal data: retention and erasure.

-- purged_at: the retention job replaced the payload with a tombstone.
-- erased_at: the event is about an erased candidate; its data is {"id": …}.
ALTER TABLE events ADD COLUMN purged_at INTEGER;
ALTER TABLE events ADD COLUMN erased_at INTEGER;
-- Holds only the events retention has still to purge, in the order it
-- purges them, so each batch is an index range however long the log is.
CREATE INDEX events_retention ON events (tenant_id, received_at) WHERE purged_at IS NULL;

-- erased_at: the candidate record whose data was reduced to {"id": …}.
ALTER TABLE records ADD COLUMN erased_at INTEGER;

-- Attempts carry their tenant so that retention finds a tenant's old
-- response bodies through an index instead of joining every attempt to its
-- delivery; the partial index holds only bodies not yet purged.
ALTER TABLE attempts ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
UPDATE attempts SET tenant_id = coalesce((SELECT d.tenant_id FROM deliveries d WHERE d.id = attempts.delivery_id), '');
CREATE INDEX attempts_retention ON attempts (tenant_id, started_at) WHERE response_body <> '';

-- store_meta holds facts about the file itself.
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

-- From now on the writer runs with secure_delete, which zeroes the bytes of
-- every row it deletes or rewrites. A file that held data before may still
-- keep old copies of rows in free space (freed pages, gaps inside pages):
-- the first erasure rewrites it once with VACUUM (see personal.go). A file
-- that never held a row has nothing to scrub.
INSERT INTO store_meta (key, value)
SELECT 'needs_scrub', 1
WHERE EXISTS (SELECT 1 FROM events) OR EXISTS (SELECT 1 FROM records)
   OR EXISTS (SELECT 1 FROM deliveries) OR EXISTS (SELECT 1 FROM attempts)
   OR (SELECT freelist_count FROM pragma_freelist_count()) > 0;
