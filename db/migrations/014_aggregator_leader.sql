-- Aggregators active/standby (issue 12): several aggregators run on one database, and only
-- the one holding the leadership advisory lock on its session publishes. Each time a process
-- takes the lock it raises the term here; every publication checks, in its own transaction,
-- that the term is still its own and that its session still holds the lock, and records the
-- term with the version. A leader that lost its session (a partition, a database failover)
-- cannot commit a publication any more: the transaction would run on a session that does not
-- hold the lock, or meet a newer term. The publication sequence (the primary key of
-- published_reports and signed_reports) stays unique whoever publishes.
CREATE TABLE aggregator_leader (
    id      boolean PRIMARY KEY DEFAULT true CHECK (id),
    term    bigint NOT NULL CHECK (term >= 0),
    holder  text NOT NULL,
    since   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO aggregator_leader (term, holder) VALUES (0, '');
ALTER TABLE aggregator_leader OWNER TO report_owner;
GRANT SELECT, UPDATE ON aggregator_leader TO report_reporter;
GRANT SELECT ON aggregator_leader TO report_ops;

ALTER TABLE published_reports ADD COLUMN leader_term bigint;
ALTER TABLE signed_reports ADD COLUMN leader_term bigint;
