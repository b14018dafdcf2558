-- Per-endpoint isolation (store/sqlite's 0005): the attempts in flight to
-- an endpoint at once, and the attempts started per second (NULL: no
-- limit). Existing endpoints get the API's default concurrency.
ALTER TABLE endpoints ADD COLUMN max_concurrency integer NOT NULL DEFAULT 16;
ALTER TABLE endpoints ADD COLUMN rate_limit_per_second double precision;
