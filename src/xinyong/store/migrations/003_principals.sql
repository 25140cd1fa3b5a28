-- xinyong store, schema version 3: principals and their API keys (the HTTP service).
--
-- A key is shown once when it is created and only its sha256 is kept: keys are 256-bit random values,
-- so a fast hash is enough (no password stretching needed). Keys are never updated or deleted: a
-- revocation is a row of its own, so who had which rights when stays recomputable, like records.
CREATE TABLE IF NOT EXISTS api_keys (
    id          VARCHAR PRIMARY KEY,          -- public key id, shown in lists and the audit log
    name        VARCHAR NOT NULL,             -- who holds it, e.g. "China Eastern ticketing"
    role        VARCHAR NOT NULL,             -- agency | relying_party | subject | reviewer | admin
    source      VARCHAR,                      -- agency: the catalogue source it submits as
    subject     VARCHAR,                      -- subject: the canonical subject key it may read
    actions     VARCHAR NOT NULL,             -- relying party: JSON array of registered actions
    key_hash    VARCHAR NOT NULL UNIQUE,      -- sha256 hex of the key
    created_at  TIMESTAMP NOT NULL,
    created_by  VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS api_key_revocations (
    id          VARCHAR PRIMARY KEY,          -- api_keys.id
    revoked_at  TIMESTAMP NOT NULL,
    revoked_by  VARCHAR NOT NULL,
    reason      VARCHAR NOT NULL
);
