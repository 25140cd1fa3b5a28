-- xinyong store, schema version 8 on PostgreSQL: the subjects of an ingest batch are found through
-- records(batch) when a follower replays the change sequence.
CREATE INDEX IF NOT EXISTS records_batch ON records (batch);
