-- xinyong store, schema version 10: which audit entry recorded each ingest batch. A bulk ingest is audited
-- once per batch, not once per subject (that would cost more than the insert); a subject's access log
-- finds the batches that wrote its records through records.batch and their entries through this table,
-- by key, so reading it stays independent of the size of the log.
CREATE TABLE IF NOT EXISTS ingest_batches (
    batch       VARCHAR PRIMARY KEY,
    seq         BIGINT NOT NULL               -- audit_log.seq of the batch's entry
);
