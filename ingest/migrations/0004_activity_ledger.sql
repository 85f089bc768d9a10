-- The activity ledger, stored: the rows analysis/ledger.sql derives from all
-- the evidence (one per qualifying activity), rebuilt whole by
-- analysis.Refresh when the evidence or the rules change, so that reports
-- read it instead of deriving it again. Derived data, like the two tables
-- after it: nothing else writes them.
CREATE TABLE activity_ledger (
    occurred_at  TIMESTAMP NOT NULL, -- when the activity happened, UTC
    month        VARCHAR NOT NULL,   -- YYYY-MM of occurred_at
    service_sid  VARCHAR NOT NULL,   -- '' when no evidence tells the service
    subject_kind VARCHAR NOT NULL,   -- identity, address; author for data-quality rows
    subject      VARCHAR NOT NULL,
    rule         VARCHAR NOT NULL,   -- e.g. sdk.connect; quality.* rows are never billed
    family       VARCHAR NOT NULL,   -- sdk, rest, channel, quality
    source       VARCHAR NOT NULL,   -- webhook, event_stream, rest_snapshot, token_log
    origin       VARCHAR NOT NULL,   -- Twilio's Source (SDK, API, SMS...), '' when unknown
    evidence     VARCHAR NOT NULL,   -- the SID (or token log line) that proves it
    inferred     BOOLEAN NOT NULL    -- likely, not proven (token logs)
);

-- The billable part of activity_ledger summarised per subject, month and
-- service (analysis/subject_months.sql): what reports read. Proven and
-- inferred activities are kept apart (inferred), as --evidence needs.
CREATE TABLE ledger_subject_months (
    month        VARCHAR NOT NULL,
    service_sid  VARCHAR NOT NULL,
    subject_kind VARCHAR NOT NULL,
    subject      VARCHAR NOT NULL,
    inferred     BOOLEAN NOT NULL,
    activities   BIGINT NOT NULL,
    -- the first qualifying activity of the month
    first        STRUCT("at" TIMESTAMP, "rule" VARCHAR, evidence VARCHAR, service_sid VARCHAR,
                        source VARCHAR, origin VARCHAR, inferred BOOLEAN) NOT NULL,
    last_at      TIMESTAMP NOT NULL,
    rule_bits    UINTEGER NOT NULL   -- a bit per rule qualified by, in analysis.Rules order
);

-- What the stored ledger was built from: a fingerprint of the evidence
-- tables and of the rules. One row once built.
CREATE TABLE ledger_state (
    fingerprint VARCHAR NOT NULL,
    built_at    TIMESTAMP NOT NULL,
    rows        BIGINT NOT NULL
);
