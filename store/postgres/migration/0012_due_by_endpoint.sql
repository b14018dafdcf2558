-- The due deliveries of each endpoint in due order. A claim that skips
-- endpoints (the dispatcher's full lanes, open breakers) reads the other
-- endpoints' due deliveries endpoint by endpoint through this index
-- (qClaimSkipping), instead of walking deliveries_due past every due
-- delivery of the skipped ones: with a dead endpoint's backlog of 200k,
-- that walk made every claim read the whole backlog (see issue 20,
-- BenchmarkClaimSkipping).
CREATE INDEX deliveries_due_endpoint ON deliveries (endpoint_id, next_attempt_at) WHERE state IN ('pending', 'retrying');
