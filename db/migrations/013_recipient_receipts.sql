-- Receipts of the leadership's subscribers (issue 11): a subscriber asks the catch-up endpoint
-- for every publication after the last one it saved (its files and its state written to
-- disk first), so that sequence number is its receipt for every publication up to it. The
-- aggregator keeps the highest one per recipient (the name its key is enrolled under).
CREATE TABLE recipient_receipts (
    recipient  text PRIMARY KEY,
    acked_seq  bigint NOT NULL CHECK (acked_seq >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE recipient_receipts OWNER TO report_owner;
GRANT SELECT, INSERT, UPDATE ON recipient_receipts TO report_reporter;
GRANT SELECT ON recipient_receipts TO report_ops;
