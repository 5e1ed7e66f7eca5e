-- Compile scaling (issue 9): the current version of every item, kept as updates arrive.
--
-- The view current_items finds, per (unit_code, year, month, item_key), the highest revision
-- then the latest commit, by reading and sorting every revision of the period (and of the
-- year, for the year-to-date figures): a compile cost that grew with the number of stored
-- updates, amendments included (a month of 1,000,000 updates took about 25 s). Even with an
-- index in that order, an index-only scan still visits every revision.
--
-- item_heads holds one row per item of a period: the seq of its current version and
-- whether that version withdraws it. A statement trigger on updates keeps it (one upsert per
-- batch, the winner by (revision, seq) as in current_items, whatever the order in which
-- concurrent batches commit), so report_compile() reads as many rows as there are items,
-- however many revisions they have. The view stays the definition of "current"; the tests
-- check that both agree.
--
-- The trigger function runs as the owner: the ingest role gets no right on item_heads.

CREATE TABLE item_heads (
    year      integer NOT NULL,
    month     integer NOT NULL,
    unit_code text NOT NULL,
    item_key  text NOT NULL,
    revision  integer NOT NULL,
    seq       bigint NOT NULL,    -- updates.seq of the current version
    withdrawn boolean NOT NULL,
    PRIMARY KEY (year, month, unit_code, item_key)
);

INSERT INTO item_heads (year, month, unit_code, item_key, revision, seq, withdrawn)
SELECT DISTINCT ON (year, month, unit_code, item_key)
       year, month, unit_code, item_key, revision, seq, withdrawn
  FROM updates
 ORDER BY year, month, unit_code, item_key, revision DESC, seq DESC;

-- Rows are upserted in key order, so two concurrent batches touching the same items lock
-- them in the same order.
CREATE FUNCTION item_heads_track() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
BEGIN
    INSERT INTO item_heads AS h (year, month, unit_code, item_key, revision, seq, withdrawn)
    SELECT DISTINCT ON (year, month, unit_code, item_key)
           year, month, unit_code, item_key, revision, seq, withdrawn
      FROM new_updates
     ORDER BY year, month, unit_code, item_key, revision DESC, seq DESC
    ON CONFLICT (year, month, unit_code, item_key) DO UPDATE
       SET revision = excluded.revision, seq = excluded.seq, withdrawn = excluded.withdrawn
     WHERE (excluded.revision, excluded.seq) > (h.revision, h.seq);
    RETURN NULL;
END
$$;

CREATE TRIGGER updates_item_heads AFTER INSERT ON updates
    REFERENCING NEW TABLE AS new_updates
    FOR EACH STATEMENT EXECUTE FUNCTION item_heads_track();

ALTER TABLE item_heads OWNER TO report_owner;
ALTER FUNCTION item_heads_track() OWNER TO report_owner;
REVOKE ALL ON FUNCTION item_heads_track() FROM PUBLIC;
GRANT SELECT ON item_heads TO report_reporter, report_ops;
