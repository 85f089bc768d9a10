-- An activity happens when the event says it did: the CloudEvent time, else
-- when it was received, and only then the resource dates, which a REST
-- import can set and which, for a removed participant, tell its last update
-- rather than its removal. The events keep all three times, so that the
-- rules can tell a User's own update (DateUpdated at the event's time) from
-- a reachability change (IsOnline, with an older DateUpdated).
ALTER TABLE events ADD COLUMN event_time TIMESTAMP;   -- the CloudEvent time; NULL for a webhook
ALTER TABLE events ADD COLUMN date_created TIMESTAMP; -- the resource's DateCreated, as sent
ALTER TABLE events ADD COLUMN date_updated TIMESTAMP; -- the resource's DateUpdated, as sent

-- The stored events of an older mauledger, read again from their payloads
-- as ingest/events_parse.sql now reads them.
UPDATE events SET
    event_time = CASE WHEN format = 'cloudevent'
                      THEN try_cast(json_extract_string(payload, '$.time') AS TIMESTAMPTZ)::TIMESTAMP END,
    date_created = try_cast(coalesce(json_extract_string(payload, '$.data.DateCreated'),
                                     json_extract_string(payload, '$.DateCreated')) AS TIMESTAMPTZ)::TIMESTAMP,
    date_updated = try_cast(coalesce(json_extract_string(payload, '$.data.DateUpdated'),
                                     json_extract_string(payload, '$.DateUpdated')) AS TIMESTAMPTZ)::TIMESTAMP;
UPDATE events SET occurred_at = coalesce(event_time, received_at,
                                         CASE action WHEN 'added' THEN date_created ELSE date_updated END,
                                         occurred_at);
-- Twilio's CloudEvents carry no service, Source or ClientIdentity; an older
-- mauledger read them from "data" when a file had them.
UPDATE events SET origin = NULL, client_identity = NULL, service_sid = NULL WHERE format = 'cloudevent';

-- The ledger is derived data: recreated with the columns the new rules
-- fill, and rebuilt by the next ingest or report.
DROP TABLE activity_ledger;
CREATE TABLE activity_ledger (
    occurred_at    TIMESTAMP NOT NULL, -- when the activity happened, UTC
    month          VARCHAR NOT NULL,   -- YYYY-MM of occurred_at
    service_sid    VARCHAR NOT NULL,   -- '' when no evidence tells the service ("service unknown")
    subject_kind   VARCHAR NOT NULL,   -- identity, address; author for data-quality rows
    subject        VARCHAR NOT NULL,
    rule           VARCHAR NOT NULL,   -- e.g. sdk.connect; quality.* rows are never billed
    family         VARCHAR NOT NULL,   -- sdk, rest, channel, quality
    source         VARCHAR NOT NULL,   -- webhook, event_stream, rest_snapshot, token_log
    origin         VARCHAR NOT NULL,   -- Twilio's Source (SDK, API, SMS...), '' when unknown
    evidence       VARCHAR NOT NULL,   -- the SID (or token log line) that proves it
    inferred       BOOLEAN NOT NULL,   -- likely, not proven (token logs): billed with --evidence inferred
    unknown_author BOOLEAN NOT NULL,   -- a message by an author nobody knows: billed with --unknown-authors bill
    timed_by       VARCHAR NOT NULL    -- the time it used: time, received_at, date_created, date_updated, issued_at
);

DROP TABLE ledger_subject_months;
CREATE TABLE ledger_subject_months (
    month          VARCHAR NOT NULL,
    service_sid    VARCHAR NOT NULL,
    subject_kind   VARCHAR NOT NULL,
    subject        VARCHAR NOT NULL,
    inferred       BOOLEAN NOT NULL,
    unknown_author BOOLEAN NOT NULL,
    activities     BIGINT NOT NULL,
    -- the first qualifying activity of the month
    first          STRUCT("at" TIMESTAMP, "rule" VARCHAR, evidence VARCHAR, service_sid VARCHAR,
                          source VARCHAR, origin VARCHAR, inferred BOOLEAN, unknown_author BOOLEAN,
                          timed_by VARCHAR) NOT NULL,
    last_at        TIMESTAMP NOT NULL,
    rule_bits      UINTEGER NOT NULL,  -- a bit per rule qualified by, in analysis.Rules order
    -- a proven row of the unknown service ('') whose subject has proven
    -- activity in a known service that month: it counts there only
    shadowed       BOOLEAN NOT NULL
);

DELETE FROM ledger_state;
