-- xinyong store, schema version 11 on PostgreSQL: integer subject keys. Each subject gets a dictionary
-- number (``subjects.sid``, from a sequence, so concurrent writers never share one) and every record
-- carries its subject's number (``records.sid``, NOT NULL: a writer that forgets it fails), so a batch
-- evaluation groups by an integer instead of the text key. Records are append-only: the one-time
-- backfill runs with their trigger disabled, inside this migration's transaction.
CREATE SEQUENCE IF NOT EXISTS subject_sid;
ALTER TABLE subjects ADD COLUMN sid BIGINT DEFAULT nextval('subject_sid');
CREATE UNIQUE INDEX IF NOT EXISTS subjects_sid ON subjects (sid);
ALTER TABLE records ADD COLUMN sid BIGINT;
ALTER TABLE records DISABLE TRIGGER records_append_only;
UPDATE records SET sid = s.sid FROM subjects s WHERE s.id = records.subject;
ALTER TABLE records ENABLE TRIGGER records_append_only;
ALTER TABLE records ALTER COLUMN sid SET NOT NULL;
