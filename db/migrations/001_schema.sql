-- Ingest schema: the catalogue (agencies, units, work areas, indicators, plan targets),
-- the updates pushed by units with their indicator values, and refused input.

CREATE TABLE agencies (
    code             text PRIMARY KEY CHECK (code ~ '^[A-Z0-9_]{1,32}$'),
    parent_authority text NOT NULL,          -- e.g. 'UBND TỈNH CAO BẰNG'
    name             text NOT NULL,          -- e.g. 'SỞ KHOA HỌC VÀ CÔNG NGHỆ'
    symbol           text NOT NULL,          -- document symbol after the number, e.g. 'BC-SKHCN'
    place            text NOT NULL           -- place on the place-date line, e.g. 'Cao Bằng'
);

-- A subdivision of the agency that pushes updates.
CREATE TABLE units (
    code        text PRIMARY KEY CHECK (code ~ '^[A-Z0-9_]{1,32}$'),
    agency_code text NOT NULL REFERENCES agencies (code),
    name        text NOT NULL,
    position    integer NOT NULL,            -- order of the unit among the agency's units
    active      boolean NOT NULL DEFAULT true
);

-- A work area of section 1.a, in the template's order, with its lead-in.
CREATE TABLE work_areas (
    code        text PRIMARY KEY CHECK (code ~ '^[A-Z0-9_]{1,32}$'),
    agency_code text NOT NULL REFERENCES agencies (code),
    name        text NOT NULL,
    lead_in     text NOT NULL,               -- e.g. 'Về công tác thanh tra:'; may hold {year}
    position    integer NOT NULL
);

CREATE TABLE indicators (
    code      text PRIMARY KEY CHECK (code ~ '^[A-Z0-9_]{1,32}$'),
    area_code text NOT NULL REFERENCES work_areas (code),
    label     text NOT NULL,
    measure   text NOT NULL                  -- unit of measure, e.g. 'cơ quan', 'hồ sơ'
);

-- Annual plan target of an indicator (the denominator of "đạt 68% Kế hoạch").
CREATE TABLE plan_targets (
    indicator_code text NOT NULL REFERENCES indicators (code),
    year           integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    target         numeric NOT NULL CHECK (target > 0),
    PRIMARY KEY (indicator_code, year)
);

-- One update as pushed by a unit. update_id is the idempotency key.
CREATE TABLE updates (
    seq         bigserial PRIMARY KEY,       -- commit order, used to break revision ties
    update_id   uuid NOT NULL UNIQUE,
    unit_code   text NOT NULL REFERENCES units (code),
    year        integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    month       integer NOT NULL CHECK (month BETWEEN 1 AND 12),
    section     text NOT NULL CHECK (section IN ('result', 'limitation', 'next_task')),
    area_code   text NOT NULL REFERENCES work_areas (code),
    item_key    text NOT NULL,
    item_order  integer NOT NULL,
    revision    integer NOT NULL DEFAULT 0,
    withdrawn   boolean NOT NULL DEFAULT false,
    text        text NOT NULL,
    sub_items   jsonb NOT NULL DEFAULT '[]',
    payload     bytea NOT NULL,              -- the update as received (after NFC), protobuf
    received_at timestamptz NOT NULL DEFAULT now(),
    stored_by   text NOT NULL DEFAULT ''     -- store id, for tracing
);
CREATE INDEX updates_period ON updates (year, month, unit_code, item_key);

CREATE TABLE indicator_values (
    update_seq     bigint NOT NULL REFERENCES updates (seq),
    indicator_code text NOT NULL REFERENCES indicators (code),
    value          numeric NOT NULL,
    PRIMARY KEY (update_seq, indicator_code)
);

-- Refused input, kept for ops; bounded by the store's dead_letter_max setting.
CREATE TABLE dead_letters (
    id           bigserial PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now(),
    reason       text NOT NULL,
    message      text NOT NULL,
    unit_code    text NOT NULL DEFAULT '',
    update_id    text NOT NULL DEFAULT '',
    payload      bytea NOT NULL,             -- truncated copy of what was refused
    payload_size bigint NOT NULL
);

-- The latest version of every item: highest revision, then latest commit.
CREATE VIEW current_items AS
SELECT DISTINCT ON (unit_code, year, month, item_key) *
  FROM updates
 ORDER BY unit_code, year, month, item_key, revision DESC, seq DESC;
