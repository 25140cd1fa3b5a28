-- xinyong store, schema version 2 on PostgreSQL: the table exists for parity with the embedded store,
-- but PostgreSQL deduplicates through the unique index on records(id) (migration 005), which a B-tree
-- keeps cheap; nothing writes record_keys here.
CREATE TABLE IF NOT EXISTS record_keys (
    key         BIGINT NOT NULL
);
