-- Per-endpoint isolation (the dispatcher enforces both): the attempts in
-- flight to an endpoint at once, and the attempts started per second (NULL:
-- no limit). Existing endpoints get the API's default concurrency.
ALTER TABLE endpoints ADD COLUMN max_concurrency INTEGER NOT NULL DEFAULT 16;
ALTER TABLE endpoints ADD COLUMN rate_limit_per_second REAL;
