-- Administration without SQL (issue 13, part 3): the catalogue changed through the
-- aggregator's control socket by operators, every change audited; retired codes never reused;
-- dead letters replayed by an operator, the replay recorded.
--
-- The aggregator's role (report_reporter) gets no UPDATE or INSERT on the catalogue: it calls
-- two SECURITY DEFINER functions owned by report_owner, as the store prunes dead letters. A
-- grant of UPDATE on units would let it change any column of any row with no trace; the
-- function does only the changes below and writes the audit row in the same transaction, so a
-- change without its audit row cannot happen.

ALTER TABLE work_areas ADD COLUMN active boolean NOT NULL DEFAULT true;
ALTER TABLE indicators ADD COLUMN active boolean NOT NULL DEFAULT true;

-- Who changed what and when; old and new values as JSON (NULL for an add's old value).
CREATE TABLE catalogue_audit (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    operator  text NOT NULL,          -- the operator's key name (keys/operators/NAME.pub)
    action    text NOT NULL,          -- add, rename, retire, target, set
    kind      text NOT NULL,          -- unit, area, indicator, target, template, recipients
    code      text NOT NULL,
    old_value jsonb,
    new_value jsonb
);
CREATE INDEX catalogue_audit_code ON catalogue_audit (kind, code, id);

-- A retired code is never added again (a report of another year must not mean two things).
CREATE TABLE catalogue_retired (
    kind       text NOT NULL,
    code       text NOT NULL,
    retired_at timestamptz NOT NULL DEFAULT now(),
    retired_by text NOT NULL,
    PRIMARY KEY (kind, code)
);

-- An update stored by an operator's replay of a dead letter: the row in updates keeps the
-- unit and update id of the dead letter; this says who sent it again, and when.
CREATE TABLE update_replays (
    id             bigserial PRIMARY KEY,
    dead_letter_id bigint NOT NULL,
    unit_code      text NOT NULL,
    update_id      uuid NOT NULL,
    replayed_by    text NOT NULL,
    replayed_at    timestamptz NOT NULL DEFAULT now(),
    outcome        text NOT NULL      -- STORED, DUPLICATE, id_conflict
);
CREATE INDEX update_replays_update ON update_replays (unit_code, update_id);

ALTER TABLE catalogue_audit OWNER TO report_owner;
ALTER TABLE catalogue_retired OWNER TO report_owner;
ALTER TABLE update_replays OWNER TO report_owner;
GRANT SELECT ON catalogue_audit, catalogue_retired, update_replays TO report_reporter, report_ops;

-- Helpers of catalogue_change: called only by it (no grant), so they run as the owner.
CREATE FUNCTION s_catalogue_row(p_kind text, p_code text) RETURNS jsonb
    LANGUAGE sql STABLE SET search_path = public AS $$
    SELECT CASE p_kind
        WHEN 'unit' THEN (SELECT to_jsonb(u) FROM units u WHERE code = p_code)
        WHEN 'area' THEN (SELECT to_jsonb(a) FROM work_areas a WHERE code = p_code)
        WHEN 'indicator' THEN (SELECT to_jsonb(i) FROM indicators i WHERE code = p_code)
    END $$;
ALTER FUNCTION s_catalogue_row(text, text) OWNER TO report_owner;
REVOKE ALL ON FUNCTION s_catalogue_row(text, text) FROM PUBLIC;

-- The template's texts and its recipients ("Nơi nhận"), audited like the catalogue.
-- template: p_fields {"field": COLUMN, "value": TEXT}, any text column of report_templates
-- but the agency; recipients: p_fields {"recipients": [TEXT, ...]}, the whole list in order.
-- p_agency '' is the only agency. Returns '' or not_found, bad_fields.
CREATE FUNCTION s_catalogue_template(p_operator text, p_kind text, p_agency text,
                                     p_fields jsonb) RETURNS text
    LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
    agency text := p_agency;
    field text := p_fields->>'field';
    old_v jsonb;
    new_v jsonb;
BEGIN
    IF agency = '' THEN
        SELECT code INTO agency FROM agencies ORDER BY code LIMIT 1;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM report_templates WHERE agency_code = agency) THEN
        RETURN 'not_found';
    END IF;
    IF p_kind = 'recipients' THEN
        IF jsonb_typeof(p_fields->'recipients') IS DISTINCT FROM 'array'
           OR jsonb_array_length(p_fields->'recipients') = 0
           OR EXISTS (SELECT 1 FROM jsonb_array_elements(p_fields->'recipients') e
                       WHERE jsonb_typeof(e) <> 'string' OR e #>> '{}' = '') THEN
            RETURN 'bad_fields';
        END IF;
        SELECT jsonb_agg(text ORDER BY position) INTO old_v
          FROM report_recipients WHERE agency_code = agency;
        DELETE FROM report_recipients WHERE agency_code = agency;
        INSERT INTO report_recipients (agency_code, position, text)
             SELECT agency, n, e FROM jsonb_array_elements_text(p_fields->'recipients')
                                      WITH ORDINALITY AS x(e, n);
        new_v := p_fields->'recipients';
    ELSE
        IF field IS NULL OR field = 'agency_code' OR (p_fields->>'value') IS NULL
           OR NOT EXISTS (SELECT 1 FROM information_schema.columns
                           WHERE table_schema = 'public' AND table_name = 'report_templates'
                             AND column_name = field AND data_type = 'text') THEN
            RETURN 'bad_fields';
        END IF;
        EXECUTE format('SELECT jsonb_build_object(%L, %I) FROM report_templates'
                       ' WHERE agency_code = $1', field, field) INTO old_v USING agency;
        EXECUTE format('UPDATE report_templates SET %I = $1 WHERE agency_code = $2', field)
            USING p_fields->>'value', agency;
        new_v := jsonb_build_object(field, p_fields->>'value');
    END IF;
    INSERT INTO catalogue_audit (operator, action, kind, code, old_value, new_value)
         VALUES (p_operator, 'set', p_kind, agency, old_v, new_v);
    RETURN '';
END $$;
ALTER FUNCTION s_catalogue_template(text, text, text, jsonb) OWNER TO report_owner;
REVOKE ALL ON FUNCTION s_catalogue_template(text, text, text, jsonb) FROM PUBLIC;

-- One change of the catalogue, audited. Returns '' when done, else a refusal code:
-- code_retired, exists, not_found, bad_kind, bad_action, bad_fields. Kinds: unit, area,
-- indicator (add, rename, retire), target (add: set a year's plan), template and recipients
-- (set).
CREATE FUNCTION catalogue_change(p_operator text, p_action text, p_kind text, p_code text,
                                 p_fields jsonb) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    old_v jsonb;
    agency text;
BEGIN
    IF p_kind IN ('template', 'recipients') THEN
        IF p_action <> 'set' THEN
            RETURN 'bad_action';
        END IF;
        RETURN s_catalogue_template(p_operator, p_kind, p_code, p_fields);
    END IF;
    IF p_kind NOT IN ('unit', 'area', 'indicator', 'target') THEN
        RETURN 'bad_kind';
    END IF;
    IF p_code !~ '^[A-Z0-9_]{1,32}$' THEN
        RETURN 'bad_fields';
    END IF;
    IF p_kind = 'target' THEN
        IF p_action <> 'add' OR (p_fields->>'year') IS NULL OR (p_fields->>'target') IS NULL THEN
            RETURN 'bad_fields';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM indicators WHERE code = p_code AND active) THEN
            RETURN 'not_found';
        END IF;
        SELECT to_jsonb(t) INTO old_v FROM plan_targets t
         WHERE indicator_code = p_code AND year = (p_fields->>'year')::int;
        INSERT INTO plan_targets (indicator_code, year, target)
             VALUES (p_code, (p_fields->>'year')::int, (p_fields->>'target')::numeric)
        ON CONFLICT (indicator_code, year) DO UPDATE SET target = EXCLUDED.target;
        INSERT INTO catalogue_audit (operator, action, kind, code, old_value, new_value)
             SELECT p_operator, 'target', 'target', p_code, old_v, to_jsonb(t)
               FROM plan_targets t
              WHERE indicator_code = p_code AND year = (p_fields->>'year')::int;
        RETURN '';
    END IF;
    old_v := s_catalogue_row(p_kind, p_code);
    IF p_action = 'add' THEN
        IF EXISTS (SELECT 1 FROM catalogue_retired WHERE kind = p_kind AND code = p_code) THEN
            RETURN 'code_retired';
        END IF;
        IF old_v IS NOT NULL THEN
            RETURN 'exists';
        END IF;
        SELECT code INTO agency FROM agencies ORDER BY code LIMIT 1;
        IF p_kind = 'unit' THEN
            IF coalesce(p_fields->>'name', '') = '' THEN RETURN 'bad_fields'; END IF;
            INSERT INTO units (code, agency_code, name, position)
                 VALUES (p_code, coalesce(p_fields->>'agency', agency), p_fields->>'name',
                         coalesce((p_fields->>'position')::int,
                                  (SELECT coalesce(max(position), 0) + 1 FROM units)));
        ELSIF p_kind = 'area' THEN
            IF coalesce(p_fields->>'name', '') = '' THEN RETURN 'bad_fields'; END IF;
            INSERT INTO work_areas (code, agency_code, name, lead_in, position)
                 VALUES (p_code, coalesce(p_fields->>'agency', agency), p_fields->>'name',
                         coalesce(p_fields->>'lead_in', ''),
                         coalesce((p_fields->>'position')::int,
                                  (SELECT coalesce(max(position), 0) + 1 FROM work_areas)));
        ELSE
            IF coalesce(p_fields->>'label', '') = '' OR coalesce(p_fields->>'measure', '') = ''
               OR NOT EXISTS (SELECT 1 FROM work_areas
                               WHERE code = p_fields->>'area' AND active) THEN
                RETURN 'bad_fields';
            END IF;
            INSERT INTO indicators (code, area_code, label, measure)
                 VALUES (p_code, p_fields->>'area', p_fields->>'label', p_fields->>'measure');
        END IF;
    ELSIF p_action IN ('rename', 'retire') THEN
        IF old_v IS NULL OR NOT (old_v->>'active')::boolean THEN
            RETURN 'not_found';
        END IF;
        IF p_action = 'retire' THEN
            INSERT INTO catalogue_retired (kind, code, retired_by) VALUES (p_kind, p_code, p_operator);
            UPDATE units SET active = false WHERE p_kind = 'unit' AND code = p_code;
            UPDATE work_areas SET active = false WHERE p_kind = 'area' AND code = p_code;
            UPDATE indicators SET active = false WHERE p_kind = 'indicator' AND code = p_code;
        ELSIF p_kind = 'indicator' THEN
            IF coalesce(p_fields->>'label', '') = '' THEN RETURN 'bad_fields'; END IF;
            UPDATE indicators SET label = p_fields->>'label',
                                  measure = coalesce(p_fields->>'measure', measure)
             WHERE code = p_code;
        ELSE
            IF coalesce(p_fields->>'name', '') = '' THEN RETURN 'bad_fields'; END IF;
            UPDATE units SET name = p_fields->>'name' WHERE p_kind = 'unit' AND code = p_code;
            UPDATE work_areas SET name = p_fields->>'name',
                                  lead_in = coalesce(p_fields->>'lead_in', lead_in)
             WHERE p_kind = 'area' AND code = p_code;
        END IF;
    ELSE
        RETURN 'bad_action';
    END IF;
    INSERT INTO catalogue_audit (operator, action, kind, code, old_value, new_value)
         VALUES (p_operator, p_action, p_kind, p_code, old_v, s_catalogue_row(p_kind, p_code));
    RETURN '';
END $$;
ALTER FUNCTION catalogue_change(text, text, text, text, jsonb) OWNER TO report_owner;
REVOKE ALL ON FUNCTION catalogue_change(text, text, text, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalogue_change(text, text, text, text, jsonb) TO report_reporter;

-- An operator's replay of a dead letter the aggregator has decoded and validated: stored as
-- the store stores an update (same columns, unique on unit and update id, the payload's hash
-- telling a DUPLICATE from an id_conflict), stored_by 'replay:OPERATOR', and recorded in
-- update_replays. Returns STORED, DUPLICATE, id_conflict, or a catalogue refusal
-- (unknown_unit, unknown_area, unknown_indicator), as the store would.
CREATE FUNCTION replay_update(p_dead_letter bigint, p_operator text, p_update_id uuid,
                              p_unit text, p_year int, p_month int, p_section text, p_area text,
                              p_item_key text, p_item_order int, p_revision int,
                              p_withdrawn bool, p_text text, p_sub_items jsonb, p_payload bytea,
                              p_sha text, p_codes text[], p_values numeric[]) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    new_seq bigint;
    old_sha text;
    outcome text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM units WHERE code = p_unit AND active) THEN
        RETURN 'unknown_unit';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM work_areas WHERE code = p_area AND active) THEN
        RETURN 'unknown_area';
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(p_codes) c
                WHERE NOT EXISTS (SELECT 1 FROM indicators WHERE code = c AND active)) THEN
        RETURN 'unknown_indicator';
    END IF;
    -- {CODE}, {CODE.ytd|plan|pct} in the text and sub-items, as the store checks them
    IF EXISTS (SELECT 1
                 FROM (SELECT p_text AS t UNION ALL
                       SELECT jsonb_array_elements_text(p_sub_items)) texts,
                      regexp_matches(texts.t, '\{([A-Z0-9_]{1,32})(\.[a-z]*)?\}', 'g') m
                WHERE NOT EXISTS (SELECT 1 FROM indicators WHERE code = m[1] AND active)) THEN
        RETURN 'unknown_indicator';
    END IF;
    INSERT INTO updates (update_id, unit_code, year, month, section, area_code, item_key,
                         item_order, revision, withdrawn, text, sub_items, payload,
                         content_sha256, stored_by)
         VALUES (p_update_id, p_unit, p_year, p_month, p_section, p_area, p_item_key,
                 p_item_order, p_revision, p_withdrawn, p_text, p_sub_items, p_payload, p_sha,
                 'replay:' || p_operator)
    ON CONFLICT (unit_code, update_id) DO NOTHING
    RETURNING seq INTO new_seq;
    IF new_seq IS NOT NULL THEN
        INSERT INTO indicator_values (update_seq, indicator_code, value)
             SELECT new_seq, c, v FROM unnest(p_codes, p_values) AS x(c, v);
        outcome := 'STORED';
    ELSE
        SELECT content_sha256 INTO old_sha FROM updates
         WHERE unit_code = p_unit AND update_id = p_update_id;
        outcome := CASE WHEN old_sha = p_sha THEN 'DUPLICATE' ELSE 'id_conflict' END;
    END IF;
    INSERT INTO update_replays (dead_letter_id, unit_code, update_id, replayed_by, outcome)
         VALUES (p_dead_letter, p_unit, p_update_id, p_operator, outcome);
    RETURN outcome;
END $$;
ALTER FUNCTION replay_update(bigint, text, uuid, text, int, int, text, text, text, int, int, bool,
                             text, jsonb, bytea, text, text[], numeric[]) OWNER TO report_owner;
REVOKE ALL ON FUNCTION replay_update(bigint, text, uuid, text, int, int, text, text, text, int,
                                     int, bool, text, jsonb, bytea, text, text[], numeric[])
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION replay_update(bigint, text, uuid, text, int, int, text, text, text, int,
                                        int, bool, text, jsonb, bytea, text, text[], numeric[])
    TO report_reporter;
