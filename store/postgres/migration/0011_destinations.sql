-- An endpoint's destination kind (hirehook.KindHTTP, or a broker kind:
-- kafka, rabbitmq, nats, gcp_pubsub) and, for a broker, its config and
-- credentials: the JSON {"config": {...}, "credentials": {...}}, sealed
-- like the secrets column when the hub has a key (see sqlstore/seal.go);
-- '' for a webhook endpoint.
ALTER TABLE endpoints ADD COLUMN kind text NOT NULL DEFAULT 'http';
ALTER TABLE endpoints ADD COLUMN destination text NOT NULL DEFAULT '';
