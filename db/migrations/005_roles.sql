-- Least privilege. A NOLOGIN owner owns the schema; each service connects as its own role:
--   report_ingest    the store: reads the catalogue, inserts updates, indicator values and
--                    dead letters, and nothing else (no UPDATE, no DELETE, no DDL)
--   report_reporter  the aggregator: reads everything, inserts published reports
--   report_ops       people and dashboards: read-only
-- Roles belong to the cluster, so they are created only if missing (several databases of
-- one cluster share them). Run by a superuser (reportctl migrate, or the tests' admin).

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['report_owner', 'report_ingest', 'report_reporter', 'report_ops'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I %s', r,
                               CASE WHEN r = 'report_owner' THEN 'NOLOGIN' ELSE 'LOGIN' END);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL; -- another database of the cluster created it meanwhile
            END;
        END IF;
    END LOOP;
END
$$;

ALTER TABLE agencies OWNER TO report_owner;
ALTER TABLE units OWNER TO report_owner;
ALTER TABLE work_areas OWNER TO report_owner;
ALTER TABLE indicators OWNER TO report_owner;
ALTER TABLE plan_targets OWNER TO report_owner;
ALTER TABLE updates OWNER TO report_owner;
ALTER TABLE indicator_values OWNER TO report_owner;
ALTER TABLE dead_letters OWNER TO report_owner;
ALTER VIEW current_items OWNER TO report_owner;
ALTER TABLE report_templates OWNER TO report_owner;
ALTER TABLE report_recipients OWNER TO report_owner;
ALTER TABLE annual_plans OWNER TO report_owner;
ALTER TABLE published_reports OWNER TO report_owner;
ALTER TABLE schema_migrations OWNER TO report_owner;

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO report_ingest, report_reporter, report_ops;
GRANT SELECT ON schema_migrations TO report_ingest, report_reporter, report_ops;

-- The store: the catalogue, and inserts. RETURNING needs SELECT on the returned columns.
GRANT SELECT ON agencies, units, work_areas, indicators TO report_ingest;
GRANT INSERT ON updates, indicator_values, dead_letters TO report_ingest;
GRANT SELECT (seq, update_id) ON updates TO report_ingest;
GRANT USAGE ON SEQUENCE updates_seq_seq, dead_letters_id_seq TO report_ingest;

-- Keeping dead_letters bounded needs a DELETE the ingest role must not have: a function
-- owned by the owner does it, and only that.
CREATE FUNCTION prune_dead_letters(keep bigint) RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = public
    AS $$ DELETE FROM dead_letters WHERE id <= (SELECT max(id) FROM dead_letters) - keep $$;
ALTER FUNCTION prune_dead_letters(bigint) OWNER TO report_owner;
REVOKE ALL ON FUNCTION prune_dead_letters(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION prune_dead_letters(bigint) TO report_ingest;

-- The aggregator: reads all, writes published versions.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO report_reporter;
GRANT INSERT ON published_reports TO report_reporter;
GRANT USAGE ON SEQUENCE published_reports_seq_seq TO report_reporter;

-- Ops: read-only.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO report_ops;
