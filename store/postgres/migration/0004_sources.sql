-- Sources: inbound connections such as a polled Bullhorn subscription (see
-- store/sqlite's 0007_sources.sql). secrets is sealed like endpoint secrets
-- when the store has a keyring. Only the node holding a source's lease
-- (lease_owner until lease_until) runs it.
CREATE TABLE sources (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          text NOT NULL UNIQUE,
    tenant_id   text NOT NULL,
    kind        text NOT NULL,
    name        text NOT NULL,
    config      text NOT NULL,
    secrets     text NOT NULL,
    enabled     boolean NOT NULL,
    health      text NOT NULL DEFAULT '{}',
    checkpoint  text,
    lease_owner text NOT NULL DEFAULT '',
    lease_until timestamptz NOT NULL DEFAULT 'epoch',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX sources_tenant ON sources (tenant_id, seq);

CREATE TABLE source_state (
    source_id text NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    key       text NOT NULL,
    value     text NOT NULL,
    PRIMARY KEY (source_id, key)
);
