-- xinyong store, schema version 11 on DuckDB: integer subject keys and an exact dedup key.
--
-- A batch evaluation groups every record by its subject; grouping 10 M records by a 26-character text
-- key was most of the query, grouping by an integer a fraction of it. So each subject gets a dictionary
-- number (``subjects.sid``, from a sequence, assigned when the subject is first stored) and every record
-- carries its subject's number (``records.sid``, written with the record; NOT NULL, so a writer that
-- forgets it fails instead of grouping records under NULL). The text ``subject`` stays: it is the key
-- every single-subject read and every result uses.
--
-- ``record_keys`` held the first 60 bits of each id, so a key hit had to be confirmed against
-- ``records.id`` (a scan of every stored id on a re-run). It now holds the whole 128-bit id as one
-- UHUGEINT (16 bytes per record): a hit is a duplicate, nothing to confirm.
CREATE SEQUENCE IF NOT EXISTS subject_sid START 1;
ALTER TABLE subjects ADD COLUMN sid BIGINT DEFAULT nextval('subject_sid');
-- DuckDB cannot add a NOT NULL column to an indexed table and fill it in one transaction, so the table
-- is copied once with the numbers (a record about an unknown subject would stop the migration here)
CREATE TABLE records_011 (
    id          VARCHAR NOT NULL,
    subject     VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,
    type        VARCHAR NOT NULL,
    occurred    DATE NOT NULL,
    decided     DATE NOT NULL,
    document    VARCHAR NOT NULL,
    amount      DECIMAL(18, 2),
    batch       VARCHAR NOT NULL,
    received_at TIMESTAMP NOT NULL,
    sid         BIGINT NOT NULL               -- subjects.sid of subject
);
INSERT INTO records_011 SELECT r.id, r.subject, r.source, r.type, r.occurred, r.decided, r.document, r.amount,
    r.batch, r.received_at, s.sid FROM records r LEFT JOIN subjects s ON s.id = r.subject;
DROP INDEX IF EXISTS records_subject;
DROP TABLE records;
ALTER TABLE records_011 RENAME TO records;
CREATE INDEX IF NOT EXISTS records_subject ON records (subject);
DROP TABLE IF EXISTS record_keys;
CREATE TABLE record_keys (
    key         UHUGEINT NOT NULL            -- CAST('0x' || id AS UHUGEINT): the whole content id
);
INSERT INTO record_keys SELECT DISTINCT CAST('0x' || id AS UHUGEINT) FROM records;
