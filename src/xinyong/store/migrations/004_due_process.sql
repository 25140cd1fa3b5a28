-- Due process (issue #5): cases, their decisions, notices and their deliveries. Append-only like
-- records: a case is never edited; a decision is a new case_events row; a delivery attempt is a new
-- notice_deliveries row.

CREATE TABLE IF NOT EXISTS cases (
    id          VARCHAR PRIMARY KEY,          -- content id, see xinyong.model.case.Case.id
    kind        VARCHAR NOT NULL,             -- objection | appeal | repair
    subject     VARCHAR NOT NULL,
    target      VARCHAR NOT NULL,             -- record:<id> | list:<id> | case:<id>
    filed       DATE NOT NULL,
    filed_by    VARCHAR NOT NULL,
    text        VARCHAR NOT NULL,
    evidence    VARCHAR NOT NULL,             -- JSON array of document references
    deadline    DATE NOT NULL,                -- decide by
    expedited   BOOLEAN NOT NULL,
    appeal_of   VARCHAR,
    received_at TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS case_events (
    case_id     VARCHAR NOT NULL,
    decided_on  DATE NOT NULL,
    actor       VARCHAR NOT NULL,             -- the reviewer
    outcome     VARCHAR NOT NULL,             -- upheld | rejected | granted | refused
    reasons     VARCHAR NOT NULL,
    amendments  VARCHAR NOT NULL,             -- JSON array of amendment ids it produced
    received_at TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS notices (
    id          VARCHAR PRIMARY KEY,          -- content id, see xinyong.model.case.Notice.id
    subject     VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,
    issued      DATE NOT NULL,
    ref         VARCHAR NOT NULL,
    title       VARCHAR NOT NULL,
    body        VARCHAR NOT NULL,
    act_by      DATE,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS notice_deliveries (
    notice       VARCHAR NOT NULL,
    channel      VARCHAR NOT NULL,            -- e.g. outbox:/path/file.jsonl, webhook:https://...
    attempted_at TIMESTAMP NOT NULL,
    ok           BOOLEAN NOT NULL,
    detail       VARCHAR NOT NULL
);
