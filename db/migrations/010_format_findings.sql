-- The format check (issue 11): a version published with --force despite findings of the
-- format check keeps them, one "rule: message" per line, so that whoever reads the register
-- later sees that the Nghị định 30 rules were knowingly set aside and which. '' when none.
ALTER TABLE published_reports ADD COLUMN format_findings text NOT NULL DEFAULT '';
