-- Ingest speed (issue 9): an update's text, sub-items and payload are compressed with LZ4
-- instead of PostgreSQL's default pglz when TOAST compresses them (a row past about 2 kB: most
-- updates, which carry both the text and the protobuf payload that holds it again). In a
-- profile of the store's session, pglz_compress took 10 % of the backend's time; LZ4
-- compresses several times faster at a similar ratio on this text. Rows already stored keep
-- their pglz data (both are read transparently); only new values use LZ4. The Debian
-- PostgreSQL 15 packages are built with LZ4.
ALTER TABLE updates ALTER COLUMN text SET COMPRESSION lz4,
                    ALTER COLUMN sub_items SET COMPRESSION lz4,
                    ALTER COLUMN payload SET COMPRESSION lz4;
ALTER TABLE dead_letters ALTER COLUMN payload SET COMPRESSION lz4;
