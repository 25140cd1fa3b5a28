-- xinyong store, schema version 5 on PostgreSQL: the indexes that keep single-subject work independent
-- of the register's size (a subject's file, its access log, its cases and notices) and make content ids
-- unique in the database itself (ingest inserts with ON CONFLICT DO NOTHING).
CREATE UNIQUE INDEX IF NOT EXISTS records_id ON records (id);
CREATE INDEX IF NOT EXISTS records_subject ON records (subject);
CREATE UNIQUE INDEX IF NOT EXISTS amendments_id ON amendments (id);
CREATE INDEX IF NOT EXISTS amendments_record ON amendments (record);
CREATE INDEX IF NOT EXISTS audit_log_subject ON audit_log (subject, seq);
CREATE INDEX IF NOT EXISTS assessments_run_subject ON assessments (run, subject);
CREATE INDEX IF NOT EXISTS listings_run_list ON listings (run, list);
CREATE INDEX IF NOT EXISTS listings_run_subject ON listings (run, subject);
CREATE INDEX IF NOT EXISTS cases_subject ON cases (subject);
CREATE INDEX IF NOT EXISTS case_events_case ON case_events (case_id);
CREATE INDEX IF NOT EXISTS notices_subject ON notices (subject);
CREATE INDEX IF NOT EXISTS notice_deliveries_notice ON notice_deliveries (notice, channel);
