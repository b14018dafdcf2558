-- Ordered endpoints, paused deliveries and the failing-endpoint rule
-- (store/sqlite's 0006).
--
-- endpoints.ordered: deliveries to the endpoint keep the order of their
-- subject. endpoints.failing_since: when the endpoint's current run of
-- failed attempts began (NULL after a success).
ALTER TABLE endpoints ADD COLUMN ordered boolean NOT NULL DEFAULT false;
ALTER TABLE endpoints ADD COLUMN failing_since timestamptz;

-- A delivery waiting for its disabled endpoint is paused.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_state_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_state_check
    CHECK (state IN ('pending', 'delivering', 'retrying', 'delivered', 'failed', 'cancelled', 'paused'));

-- deliveries.ordering_key is the subject ("candidate/cand_1") of a delivery
-- to an ordered endpoint, NULL otherwise. The partial index holds only the
-- unfinished ones: the claim's "is an earlier one unfinished?" probe is one
-- index lookup however long the history grows.
ALTER TABLE deliveries ADD COLUMN ordering_key text;
CREATE INDEX deliveries_ordering ON deliveries (endpoint_id, ordering_key, seq)
    WHERE ordering_key IS NOT NULL AND state IN ('pending', 'retrying', 'delivering', 'paused');
-- The dashboard and the metrics count paused deliveries per endpoint.
CREATE INDEX deliveries_paused ON deliveries (endpoint_id) WHERE state = 'paused';

UPDATE deliveries SET state = 'paused'
    WHERE state IN ('pending', 'retrying') AND endpoint_id IN (SELECT id FROM endpoints WHERE disabled);
