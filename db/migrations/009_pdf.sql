-- The PDF form of each published version (issue 11): the PDF/A-2b file the Director signs,
-- rendered when the version is published, and its page count. Versions published before
-- this migration have none (NULL): they are not re-rendered, since a published version is
-- frozen. A PDF is already compressed: TOAST keeps it out of line without compressing again.
ALTER TABLE published_reports ADD COLUMN pdf_body bytea,
                              ADD COLUMN pdf_pages integer CHECK (pdf_pages > 0);
ALTER TABLE published_reports ALTER COLUMN pdf_body SET STORAGE EXTERNAL;
