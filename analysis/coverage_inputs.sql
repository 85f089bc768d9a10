-- The inputs of coverage.sql, over the evidence of a store: small
-- aggregates, never payloads. `export ledger` writes them beside the ledger
-- (DIR/_coverage), and a report of the export reads them back under the
-- same names (see ledgerdir.go), so coverage.sql reads the same three
-- things either way.
--
-- coverage_hours(start_at, end_at): live events (webhook and cloudevent
--   formats) from start_at up to end_at, grouped by format and hour, with
--   their number, first and last occurred_at.
-- coverage_dated(start_at, end_at): the REST snapshot's dates (users,
--   participants and messages created or updated) and token issues in the
--   same span, per source and month: n, first and last.
-- coverage_runs: every `ingest twilio` run, started and finished (NULL:
--   interrupted).
CREATE OR REPLACE TEMP MACRO coverage_hours(start_at, end_at) AS TABLE
    SELECT format, date_trunc('hour', occurred_at) AS hour,
           count(*) AS n, min(occurred_at) AS first, max(occurred_at) AS last
    FROM events
    WHERE occurred_at >= start_at AND occurred_at < end_at
    GROUP BY ALL;

CREATE OR REPLACE TEMP MACRO coverage_dated(start_at, end_at) AS TABLE
    WITH snapshot_dates AS (
        SELECT date_created AS dated_at FROM twilio_users
        UNION ALL SELECT date_updated FROM twilio_users WHERE date_updated <> date_created
        UNION ALL SELECT date_created FROM twilio_participants
        UNION ALL SELECT date_updated FROM twilio_participants WHERE date_updated <> date_created
        UNION ALL SELECT date_created FROM twilio_messages
        UNION ALL SELECT date_updated FROM twilio_messages WHERE date_updated <> date_created
    )
    SELECT 'rest_snapshot' AS source, date_trunc('month', dated_at) AS starts, count(*) AS n, min(dated_at) AS first, max(dated_at) AS last
    FROM snapshot_dates
    WHERE dated_at >= start_at AND dated_at < end_at
    GROUP BY ALL
    UNION ALL
    SELECT 'token_log', date_trunc('month', issued_at), count(*), min(issued_at), max(issued_at)
    FROM token_issues
    WHERE issued_at >= start_at AND issued_at < end_at
    GROUP BY ALL;

CREATE OR REPLACE TEMP VIEW coverage_runs AS
    SELECT id, started_at, finished_at FROM twilio_runs;
