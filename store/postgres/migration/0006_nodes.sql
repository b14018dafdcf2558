-- The live hub nodes: each dispatcher heartbeats its row, and divides the
-- endpoints' concurrency and rate limits among the rows heartbeaten within
-- the TTL (see hirehook.NodeRegistry).
CREATE TABLE nodes (
    id           text PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);
