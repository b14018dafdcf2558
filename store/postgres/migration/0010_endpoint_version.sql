-- endpoint_version counts changes to the endpoints that ingest reads (which
-- exist, which are enabled, what they subscribe to, filter and redact), as
-- store/sqlite's 0011 does. EventIngest matches a batch (users' filters
-- included) before its write transaction, against the endpoints as of one
-- version, and checks in the transaction that the version has not moved
-- (see store/sqlstore's Ingest). Triggers bump it in the same transaction
-- as the change, so the check holds for any writer of the database (every
-- node, `hirehook endpoint`, an import).
--
-- The bumps are deferred to the commit (constraint triggers): every
-- endpoint write takes this one row's lock, and taking it last, after the
-- endpoint rows' locks, keeps it out of any deadlock between two
-- transactions that write endpoints in different orders.
CREATE TABLE endpoint_version (
    id    integer PRIMARY KEY CHECK (id = 1),
    value bigint NOT NULL
);
INSERT INTO endpoint_version (id, value) VALUES (1, 0);

CREATE FUNCTION endpoint_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE endpoint_version SET value = value + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER endpoints_version_insert AFTER INSERT ON endpoints
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION endpoint_version_bump();
CREATE CONSTRAINT TRIGGER endpoints_version_delete AFTER DELETE ON endpoints
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION endpoint_version_bump();
-- Only the columns ingest reads: the per-attempt failing_since updates must
-- not move it.
CREATE CONSTRAINT TRIGGER endpoints_version_update
    AFTER UPDATE OF seq, id, tenant_id, event_types, disabled, ordered, filter, redact ON endpoints
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION endpoint_version_bump();
CREATE TRIGGER endpoints_version_truncate AFTER TRUNCATE ON endpoints
    FOR EACH STATEMENT EXECUTE FUNCTION endpoint_version_bump();
