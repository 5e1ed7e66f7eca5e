-- An update id names one update of one unit.
--
-- Until now update_id alone was unique, and a second update with a known id was answered
-- DUPLICATE whatever it held: a corrected resend under the old id was silently dropped, and
-- one unit could occupy an id another unit then used for its own real update. Now:
--   * ids are scoped by unit: unique (unit_code, update_id);
--   * each row keeps the SHA-256 of its payload (the normalised protobuf the collector hands
--     to the store), so a resend is a DUPLICATE only if it is the same update, and an
--     id_conflict otherwise.

ALTER TABLE updates ADD COLUMN content_sha256 text;
UPDATE updates SET content_sha256 = encode(sha256(payload), 'hex');
ALTER TABLE updates ALTER COLUMN content_sha256 SET NOT NULL;
ALTER TABLE updates ADD CONSTRAINT updates_content_sha256_check
    CHECK (content_sha256 ~ '^[0-9a-f]{64}$');

ALTER TABLE updates ADD CONSTRAINT updates_unit_code_update_id_key UNIQUE (unit_code, update_id);
ALTER TABLE updates DROP CONSTRAINT updates_update_id_key;

-- The store reads back, in the same transaction, the unit and hash of a row its insert did
-- not add (ON CONFLICT also needs SELECT on the arbiter's columns).
GRANT SELECT (unit_code, content_sha256) ON updates TO report_ingest;
