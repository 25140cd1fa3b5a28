-- xinyong store, schema version 1. Portable SQL (DuckDB and PostgreSQL); records and amendments are
-- append-only: nothing in this schema is ever UPDATEd or DELETEd by the platform.

CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    applied_at  TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS sources (
    id          VARCHAR PRIMARY KEY,
    name        VARCHAR NOT NULL,
    may_submit  VARCHAR NOT NULL            -- JSON array of record type ids
);

CREATE TABLE IF NOT EXISTS record_types (
    id                     VARCHAR PRIMARY KEY,
    name                   VARCHAR NOT NULL,
    category               VARCHAR NOT NULL,
    severity               VARCHAR NOT NULL,
    polarity               VARCHAR NOT NULL,
    legal_basis            VARCHAR,
    default_validity_days  INTEGER NOT NULL,
    publication_days       INTEGER NOT NULL,
    subject_kinds          VARCHAR NOT NULL  -- JSON array
);

CREATE TABLE IF NOT EXISTS subjects (
    id          VARCHAR PRIMARY KEY,          -- canonical key scheme:value
    scheme      VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,             -- organisation | person
    name        VARCHAR                       -- shown to the subject; masked in public views
);

CREATE TABLE IF NOT EXISTS records (
    id          VARCHAR NOT NULL,             -- content id, see xinyong.model.record.Record.id
    subject     VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,
    type        VARCHAR NOT NULL,
    occurred    DATE NOT NULL,
    decided     DATE NOT NULL,
    document    VARCHAR NOT NULL,
    amount      DECIMAL(18, 2),
    batch       VARCHAR NOT NULL,             -- ingest batch id (audit entry points at it)
    received_at TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS amendments (
    id          VARCHAR NOT NULL,             -- content id, see xinyong.model.record.Amendment.id
    record      VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,             -- correct | annul | repair | expire
    effective   DATE NOT NULL,
    reason      VARCHAR NOT NULL,
    document    VARCHAR NOT NULL,
    amount      DECIMAL(18, 2),
    received_at TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS policy_versions (
    policy       VARCHAR NOT NULL,
    version      VARCHAR NOT NULL,
    document     VARCHAR NOT NULL,            -- the policy YAML as published
    catalogue    VARCHAR NOT NULL,            -- the catalogue YAML it was published with
    published_at TIMESTAMP NOT NULL,
    PRIMARY KEY (policy, version)
);

CREATE TABLE IF NOT EXISTS assessment_runs (
    run         VARCHAR PRIMARY KEY,
    policy      VARCHAR NOT NULL,
    version     VARCHAR NOT NULL,
    as_of       DATE NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    subjects    BIGINT NOT NULL,
    records     BIGINT NOT NULL,
    seconds     DOUBLE PRECISION NOT NULL   -- the spelling both DuckDB and PostgreSQL accept
);

CREATE TABLE IF NOT EXISTS assessments (
    run         VARCHAR NOT NULL,
    subject     VARCHAR NOT NULL,
    score       INTEGER,
    tier        VARCHAR
);

CREATE TABLE IF NOT EXISTS listings (
    run         VARCHAR NOT NULL,
    subject     VARCHAR NOT NULL,
    list        VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,             -- red | black
    since       DATE NOT NULL,
    until       DATE NOT NULL
);

CREATE TABLE IF NOT EXISTS audit_log (
    seq         BIGINT PRIMARY KEY,
    "at"        TIMESTAMP NOT NULL,           -- quoted: AT is reserved in DuckDB 2
    actor       VARCHAR NOT NULL,
    action      VARCHAR NOT NULL,             -- e.g. ingest, amend, publish, evaluate, decide, explain
    subject     VARCHAR,
    purpose     VARCHAR,
    detail      VARCHAR NOT NULL,             -- canonical JSON
    prev_hash   VARCHAR NOT NULL,
    hash        VARCHAR NOT NULL
);
