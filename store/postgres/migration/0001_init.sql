-- The schema of store/postgres: the same tables as store/sqlite (its
-- migrations 0001–0003 folded into one), in PostgreSQL's own types.
--
-- Times are timestamptz, which keeps microseconds: the precision of the
-- SQLite store's integer microseconds and of the conformance suite. The Go
-- side writes and reads them in UTC.
--
-- There are no foreign keys, as in SQLite: rows name their tenant by id
-- (events of a tenant may arrive before anyone created it, as in tests of
-- the default tenant), deliveries outlive their endpoint (cancelled), and
-- TenantDelete removes everything a tenant owns explicitly.

-- jsonb_merge_patch applies patch to target as a JSON Merge Patch (RFC
-- 7396): members of patch replace those of target, objects merge member by
-- member, a null member removes, and a patch that is not an object replaces
-- the target whole. Record snapshots are built with it inside the upsert of
-- EventIngest, so that the read-merge-write of one record is one statement
-- under the row lock that INSERT … ON CONFLICT DO UPDATE takes: two nodes
-- ingesting events about the same entity serialise on that row, with no
-- window between a read and a write.
CREATE FUNCTION jsonb_merge_patch(target jsonb, patch jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    k text;
    v jsonb;
BEGIN
    IF jsonb_typeof(patch) IS DISTINCT FROM 'object' THEN
        RETURN patch;
    END IF;
    IF jsonb_typeof(target) IS DISTINCT FROM 'object' THEN
        target := '{}'::jsonb;
    END IF;
    -- Fast path: a patch with no object and no null member merges as a
    -- plain concatenation (most updates, and every nested summary such as
    -- "candidate": {...} of scalars). It saves the loop below, whose
    -- query and recursion cost a plpgsql function most of its time.
    IF NOT jsonb_path_exists(patch, 'strict $.* ? (@.type() == "object" || @.type() == "null")') THEN
        RETURN target || patch;
    END IF;
    FOR k, v IN SELECT key, value FROM jsonb_each(patch) LOOP
        IF jsonb_typeof(v) = 'null' THEN
            target := target - k;
        ELSIF jsonb_typeof(v) = 'object' THEN
            target := target || jsonb_build_object(k, jsonb_merge_patch(target -> k, v));
        ELSE
            target := target || jsonb_build_object(k, v);
        END IF;
    END LOOP;
    RETURN target;
END
$$;

CREATE TABLE tenants (
    seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             text NOT NULL UNIQUE,
    name           text NOT NULL,
    retention_days integer NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
INSERT INTO tenants (id, name, retention_days, created_at, updated_at)
VALUES ('default', 'Default tenant', 30, now(), now());

CREATE TABLE api_keys (
    id           text PRIMARY KEY,
    tenant_id    text NOT NULL,
    name         text NOT NULL,
    scope        text NOT NULL,
    hash         text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);

-- event_types and headers hold JSON as text rather than jsonb: jsonb
-- refuses \u0000 and reorders keys, and nothing queries inside them.
-- secrets holds the JSON of []hirehook.Secret, or its seal (see seal.go).
CREATE TABLE endpoints (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              text NOT NULL UNIQUE,
    tenant_id       text NOT NULL,
    url             text NOT NULL,
    description     text NOT NULL DEFAULT '',
    event_types     text NOT NULL,
    headers         text NOT NULL DEFAULT '{}',
    disabled        boolean NOT NULL DEFAULT false,
    disabled_reason text NOT NULL DEFAULT '',
    secrets         text NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX endpoints_tenant ON endpoints (tenant_id, seq);

-- events keeps the rendered webhook body (payload) as bytea, byte for byte:
-- every attempt signs exactly these bytes, and data and changes are read
-- back out of it. (jsonb would normalise it.)
-- purged_at: the retention job replaced the payload with a tombstone.
-- erased_at: the event is about an erased candidate; its data is {"id": …}.
CREATE TABLE events (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       text NOT NULL,
    id              text NOT NULL,
    type            text NOT NULL,
    occurred_at     timestamptz NOT NULL,
    received_at     timestamptz NOT NULL,
    source          text NOT NULL DEFAULT '',
    subject_entity  text NOT NULL,
    subject_id      text NOT NULL,
    idempotency_key text,
    deliveries      integer NOT NULL,
    payload         bytea NOT NULL,
    purged_at       timestamptz,
    erased_at       timestamptz,
    UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX events_idempotency ON events (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_subject ON events (tenant_id, subject_entity, subject_id, seq);
-- Holds only the events retention has still to purge, in the order it
-- purges them, so each batch is an index range however long the log is.
CREATE INDEX events_retention ON events (tenant_id, received_at) WHERE purged_at IS NULL;

-- records.data is jsonb: jsonb_merge_patch works on it.
-- erased_at: the candidate record whose data was reduced to {"id": …}.
CREATE TABLE records (
    tenant_id     text NOT NULL,
    entity        text NOT NULL,
    id            text NOT NULL,
    version       integer NOT NULL,
    deleted       boolean NOT NULL DEFAULT false,
    data          jsonb NOT NULL,
    last_event_id text NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    erased_at     timestamptz,
    PRIMARY KEY (tenant_id, entity, id)
);

-- deliveries is the queue. The two partial indexes keep claiming cheap
-- however long the history grows: they hold only the rows that can be due,
-- in the order DeliveryClaim takes them.
CREATE TABLE deliveries (
    seq              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               text NOT NULL UNIQUE,
    tenant_id        text NOT NULL,
    event_id         text NOT NULL,
    event_type       text NOT NULL,
    endpoint_id      text NOT NULL,
    state            text NOT NULL CHECK (state IN ('pending', 'delivering', 'retrying', 'delivered', 'failed', 'cancelled')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    last_attempt_at  timestamptz,
    last_status      integer NOT NULL DEFAULT 0,
    last_error       text NOT NULL DEFAULT '',
    lease_owner      text,
    lease_expires_at timestamptz,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('pending', 'retrying');
CREATE INDEX deliveries_leased ON deliveries (lease_expires_at) WHERE state = 'delivering';
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, seq);
CREATE INDEX deliveries_event ON deliveries (tenant_id, event_id);

-- response_body is bytea: a receiver's answer may hold NUL bytes, which a
-- text column refuses (and one refused attempt would fail its whole
-- completion batch). Attempts carry their tenant so that retention finds a
-- tenant's old response bodies through an index; the partial index holds
-- only bodies not yet purged.
CREATE TABLE attempts (
    delivery_id   text NOT NULL,
    number        integer NOT NULL,
    id            text NOT NULL,
    tenant_id     text NOT NULL,
    started_at    timestamptz NOT NULL,
    duration_us   bigint NOT NULL,
    status_code   integer NOT NULL DEFAULT 0,
    response_body bytea NOT NULL DEFAULT '',
    error_class   text NOT NULL DEFAULT '',
    error         text NOT NULL DEFAULT '',
    PRIMARY KEY (delivery_id, number)
);
CREATE INDEX attempts_retention ON attempts (tenant_id, started_at) WHERE response_body <> '';
-- DeliveryStats reads a tenant's attempts of a recent window: this index
-- holds them in start order with the columns the figures need, so the
-- window is one index range (an index-only scan once the table is
-- vacuumed), not a scan of every attempt.
CREATE INDEX attempts_tenant_started ON attempts (tenant_id, started_at) INCLUDE (duration_us, status_code, delivery_id);

CREATE TABLE audit_log (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         text NOT NULL UNIQUE,
    tenant_id  text NOT NULL,
    at         timestamptz NOT NULL,
    key_id     text NOT NULL,
    key_name   text NOT NULL,
    action     text NOT NULL,
    target     text NOT NULL,
    details    text
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, seq);
