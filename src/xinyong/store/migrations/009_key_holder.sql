-- xinyong store, schema version 9: a key belongs to a holder, a person or institution with a stable id
-- (e.g. a staff or organisation number), so rotated keys are the same holder and "a different
-- reviewer" compares holders, never the free-text name on a key. NULL for keys created before: their
-- holder is their name.
ALTER TABLE api_keys ADD COLUMN holder VARCHAR;
