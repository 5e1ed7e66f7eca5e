-- Provenance in the office's draft (issue 13, part 2): the item heads each draft with sources
-- showed, so that the next one can say which items changed since.
--
-- Why the last compile and not the last published version: the office compiles a month's
-- draft many times before it publishes it once, and what it needs to see is what arrived
-- since it last looked; before the first publication of a month there is no published
-- version to compare with at all. One row per item of a period (the last compile that showed
-- sources replaces it), so the table grows with the items, not with the compiles.
CREATE TABLE compile_snapshots (
    year        integer NOT NULL,
    month       integer NOT NULL,
    unit_code   text NOT NULL REFERENCES units (code),
    item_key    text NOT NULL,
    revision    integer NOT NULL,
    update_id   uuid NOT NULL,          -- of the current version when it was compiled
    withdrawn   boolean NOT NULL,
    compiled_at timestamptz NOT NULL DEFAULT now(), -- the first compile that showed this version
    PRIMARY KEY (year, month, unit_code, item_key)
);

-- When the last compile with sources of an agency's period ran. A row of compile_snapshots is
-- rewritten only when its item changed, so a compile of an unchanged month writes one row.
CREATE TABLE compile_times (
    agency_code text NOT NULL REFERENCES agencies (code),
    year        integer NOT NULL,
    month       integer NOT NULL,
    compiled_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency_code, year, month)
);

ALTER TABLE compile_snapshots OWNER TO report_owner;
ALTER TABLE compile_times OWNER TO report_owner;
GRANT SELECT, INSERT, UPDATE ON compile_snapshots, compile_times TO report_reporter;
GRANT SELECT ON compile_snapshots, compile_times TO report_ops;
