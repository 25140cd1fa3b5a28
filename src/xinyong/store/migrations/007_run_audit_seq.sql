-- xinyong store, schema version 7: each run remembers the audit head it was computed after, so the
-- decision index and the public list can re-assess exactly the subjects written about since (records,
-- amendments, case decisions), whichever process wrote them: the audit log is the change sequence.
ALTER TABLE assessment_runs ADD COLUMN audit_seq BIGINT;
