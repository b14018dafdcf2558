-- Ordered endpoints, paused deliveries and the failing-endpoint rule.
--
-- endpoints.ordered: deliveries to the endpoint keep the order of their
-- subject. endpoints.failing_since: when the endpoint's current run of
-- failed attempts began (NULL after a success).
ALTER TABLE endpoints ADD COLUMN ordered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN failing_since INTEGER;

-- deliveries.ordering_key is the subject ("candidate/cand_1") of a delivery
-- to an ordered endpoint, NULL otherwise. The partial index holds only the
-- unfinished ones, so the claim's "is an earlier one unfinished?" probe
-- stays one index seek however long the history grows.
ALTER TABLE deliveries ADD COLUMN ordering_key TEXT;
CREATE INDEX deliveries_ordering ON deliveries (endpoint_id, ordering_key, seq)
    WHERE ordering_key IS NOT NULL AND state IN ('pending', 'retrying', 'delivering', 'paused');

-- Deliveries waiting on an endpoint that is disabled are paused now.
UPDATE deliveries SET state = 'paused'
    WHERE state IN ('pending', 'retrying') AND endpoint_id IN (SELECT id FROM endpoints WHERE disabled = 1);

-- The dashboard and the metrics count paused deliveries per endpoint.
CREATE INDEX deliveries_paused ON deliveries (endpoint_id) WHERE state = 'paused';
