-- The activity ledger, stored: the rows analysis/ledger.sql derives from all
-- the evidence (one per qualifying activity), rebuilt whole by
-- analysis.Refresh when the evidence or the rules change, so that reports
-- read it instead of deriving it again. Derived data: nothing else writes it.
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

-- What the stored ledger was built from: a fingerprint of the evidence
-- tables and of the rules. One row once built.
CREATE TABLE ledger_state (
    fingerprint VARCHAR NOT NULL,
    built_at    TIMESTAMP NOT NULL,
    rows        BIGINT NOT NULL
);
