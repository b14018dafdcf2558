-- Routing: per-endpoint content filter, jq transform, payload mode and
-- redaction (store/sqlite's 0008; see package route).
--
-- filter and transform are jq expressions, '' for none. payload is 'full'
-- or 'thin'. redact is a JSON array of paths and presets, as text like
-- event_types (see 0001).
ALTER TABLE endpoints ADD COLUMN filter text NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN transform text NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN payload text NOT NULL DEFAULT 'full';
ALTER TABLE endpoints ADD COLUMN redact text NOT NULL DEFAULT '[]';
