-- Report template (data, not code) and published report versions.
--
-- Patterns may hold these placeholders, filled at compile time:
--   {month} {year}             the reporting period (month 1 and 2 written 01, 02)
--   {next_month} {next_year}   the month after it
--   {basis}                    the requesting document given at publication (--basis)
--   {plan_decision}            the annual plan decision of the year (annual_plans)
--   {agency_name_text}         the agency's name as written in running text
--   {period_start} {period_end} first and last day of the period (dd/m/yyyy)

CREATE TABLE report_templates (
    agency_code          text PRIMARY KEY REFERENCES agencies (code),
    motto                text NOT NULL,   -- 'CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM'
    motto_sub            text NOT NULL,   -- 'Độc lập - Tự do - Hạnh phúc'
    doc_type             text NOT NULL,   -- 'BÁO CÁO'
    summary_pattern      text NOT NULL,   -- when the next month is in the same year
    summary_pattern_year_end text NOT NULL, -- when the next month is January of next year
    intro_pattern        text NOT NULL,   -- legal-basis paragraph, with {basis}
    intro_pattern_no_basis text NOT NULL, -- legal-basis paragraph when no basis is given
    section1_heading     text NOT NULL,
    section1a_heading    text NOT NULL,
    section1a_intro      text NOT NULL,
    section1b_heading    text NOT NULL,
    section2_heading     text NOT NULL,
    section2_intro       text NOT NULL,
    closing_pattern      text NOT NULL,
    end_mark             text NOT NULL DEFAULT '',  -- appended to the closing, e.g. './.'
    recipients_heading   text NOT NULL,   -- 'Nơi nhận:'
    signer_authority     text NOT NULL DEFAULT '',  -- 'KT. GIÁM ĐỐC' when a deputy signs
    signer_title         text NOT NULL,   -- 'GIÁM ĐỐC'
    signer_name          text NOT NULL,
    period_rule          text NOT NULL DEFAULT 'calendar' CHECK (period_rule IN ('calendar', 'cutoff')),
    cutoff_day           integer NOT NULL DEFAULT 14 CHECK (cutoff_day BETWEEN 1 AND 28),
    deadline_day         integer NOT NULL DEFAULT 15 CHECK (deadline_day BETWEEN 1 AND 28)
);

-- The "Nơi nhận" list, in order; the last is usually 'Lưu: VT, VP.'.
CREATE TABLE report_recipients (
    agency_code text NOT NULL REFERENCES agencies (code),
    position    integer NOT NULL,
    text        text NOT NULL,             -- without the leading '- ' and trailing ';'
    PRIMARY KEY (agency_code, position)
);

-- The decision approving the annual S&T plan, cited in section 2.
CREATE TABLE annual_plans (
    agency_code text NOT NULL REFERENCES agencies (code),
    year        integer NOT NULL,
    decision    text NOT NULL,             -- 'Quyết định số 225/QĐ-UBND ngày 02/3/2018'
    PRIMARY KEY (agency_code, year)
);

-- A published, frozen report version. seq is the publication sequence number.
CREATE TABLE published_reports (
    seq          bigserial PRIMARY KEY,
    agency_code  text NOT NULL REFERENCES agencies (code),
    year         integer NOT NULL,
    month        integer NOT NULL,
    version      integer NOT NULL,
    number       integer NOT NULL CHECK (number > 0),
    doc_date     date NOT NULL,
    doc_year     integer NOT NULL CHECK (doc_year = EXTRACT(YEAR FROM doc_date)),
    basis        text NOT NULL DEFAULT '',
    text_body    text NOT NULL,
    html_body    text NOT NULL,
    json_body    text NOT NULL,
    markdown_body text NOT NULL,
    sha256       text NOT NULL,            -- of text_body, hex
    published_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (agency_code, year, month, version),
    UNIQUE (agency_code, doc_year, number)   -- the number runs per agency per year
);
