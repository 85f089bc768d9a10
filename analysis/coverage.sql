-- Coverage: what evidence covers each month of a report, per source, and
-- where live capture has holes. coverage.go reads these facts and judges a
-- month complete only when live capture (webhooks and Event Streams
-- together) covers it without a gap longer than $gap_us (4 hours) and a
-- REST snapshot was taken after it ended: snapshots cannot see SDK
-- connections or removed participants, and while live capture is down
-- nothing sees them at all. Event Streams queues events for up to 4 hours
-- while a sink is down, so a longer stretch without any live event may have
-- lost some.
--
-- Gaps come from per-hour buckets, not from sorting every event: live
-- events are grouped by (format, hour) with their first and last time, and
-- a gap between two consecutive non-empty hours is next.first - previous.last,
-- the exact gap between the two events around it. A gap inside one hour is
-- shorter than an hour, so no gap longer than $gap_us is missed. The
-- month's start and its end (or $now, for the month under way) are empty
-- buckets at its edges: the stretch before the first live event and after
-- the last one are gaps too, and a month without live events is one gap.
--
-- Parameters: $start and $end, the first instant of the report's first
-- month and the first instant after its last (UTC); $now, the report's
-- time; $gap_us, the longest stretch without live events that is not a gap,
-- in microseconds.
--
-- It reads the evidence through coverage_hours, coverage_dated and
-- coverage_runs (coverage_inputs.sql), which an export of the ledger
-- carries too.
--
-- One row per fact, (month, kind, source, n, first, last):
--   span      a source's evidence dated in the month: n items, the first and
--             last of their times. source webhook or event_stream (events by
--             format, at occurred_at), rest_snapshot (the created and updated
--             dates of the snapshot's users, participants and messages),
--             token_log (token_issues at issued_at).
--   gap       a stretch of the month longer than $gap_us without a live event,
--             from first to last (source live, n 0).
--   snapshot  an `ingest twilio` run started in the month, or after it up to
--             and including the first finished one: first its started_at,
--             last its finished_at (NULL: interrupted, not finished).
WITH months AS (
    SELECT strftime(starts, '%Y-%m') AS month, starts, starts + INTERVAL 1 MONTH AS ends
    FROM range($start, $end, INTERVAL 1 MONTH) AS r(starts)
),
hours AS MATERIALIZED (
    SELECT * FROM coverage_hours($start, $end)
),
-- Live capture is webhooks and Event Streams together: one bucket per hour,
-- between the month's two edges.
live AS (
    SELECT strftime(hour, '%Y-%m') AS month, hour, min(first) AS first, max(last) AS last
    FROM hours
    GROUP BY ALL
    UNION ALL
    SELECT month, starts - INTERVAL 1 HOUR, starts, starts FROM months
    UNION ALL
    SELECT month, ends, least(ends, $now), least(ends, $now) FROM months
),
gaps AS (
    SELECT month, last AS gap_from, lead(first) OVER (PARTITION BY month ORDER BY hour) AS gap_to
    FROM live
),
dated AS (
    SELECT * FROM coverage_dated($start, $end)
),
runs AS (
    SELECT month, started_at, finished_at, started_at >= ends AS after,
           -- finished runs started after the month, before this one
           coalesce(sum(CASE WHEN started_at >= ends AND finished_at IS NOT NULL THEN 1 ELSE 0 END) OVER (
               PARTITION BY month ORDER BY started_at, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS finished_before
    FROM months JOIN coverage_runs ON started_at >= starts
)
SELECT strftime(hour, '%Y-%m') AS month, 'span' AS kind,
       CASE format WHEN 'cloudevent' THEN 'event_stream' ELSE format END AS source,
       sum(n)::BIGINT AS n, min(first) AS first, max(last) AS last
FROM hours
GROUP BY ALL
UNION ALL
SELECT strftime(starts, '%Y-%m'), 'span', source, n, first, last FROM dated
UNION ALL
SELECT month, 'gap', 'live', 0, gap_from, gap_to FROM gaps
WHERE gap_to - gap_from > to_microseconds($gap_us)
UNION ALL
SELECT month, 'snapshot', 'rest_snapshot', 0, started_at, finished_at FROM runs
WHERE NOT after OR finished_before = 0
ORDER BY month, kind, first
