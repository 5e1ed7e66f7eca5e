-- The signed form of a published version (issue 11): the PDF/A the agency signed with its own
-- token and tool, taken back by `reportctl attach-signed` once the aggregator has verified it
-- (a valid signature over the whole file, the published PDF unchanged underneath). Its
-- sequence number comes from the publications' sequence: subscribers receive a signed form as
-- the next publication event, on PUB and by catch-up, like a version. One signed form per
-- version.
CREATE TABLE signed_reports (
    seq           bigint PRIMARY KEY DEFAULT nextval('published_reports_seq_seq'),
    published_seq bigint NOT NULL UNIQUE REFERENCES published_reports (seq),
    signed_pdf    bytea NOT NULL,
    sha256        text NOT NULL,            -- of signed_pdf, hex
    signer        text NOT NULL,            -- the certificate's subject (distinguished name)
    signing_time  text NOT NULL,            -- as the signature states it
    trusted       boolean NOT NULL,         -- the certificate chains to the configured CA
    attached_at   timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE signed_reports ALTER COLUMN signed_pdf SET STORAGE EXTERNAL;
ALTER TABLE signed_reports OWNER TO report_owner;
GRANT SELECT, INSERT ON signed_reports TO report_reporter;
GRANT SELECT ON signed_reports TO report_ops;
