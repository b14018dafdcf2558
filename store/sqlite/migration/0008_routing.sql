-- Routing: per-endpoint content filter, jq transform, payload mode and
-- redaction (see package route).
--
-- filter and transform are jq expressions, '' for none. payload is 'full'
-- or 'thin'. redact is a JSON array of paths and presets.
ALTER TABLE endpoints ADD COLUMN filter TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN transform TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN payload TEXT NOT NULL DEFAULT 'full';
ALTER TABLE endpoints ADD COLUMN redact TEXT NOT NULL DEFAULT '[]';
