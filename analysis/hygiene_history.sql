-- Identity hygiene, step 1: every billed subject's months over all the data,
-- one row per (month, subject), with what it did that month. One-shot
-- identities and churn need the months before and after the report's range,
-- so this reads the whole ledger (ledger_history), not only the range.
--
-- The subject key follows the scope, as the MAU figures do: (service, kind,
-- subject) with service scope, (kind, subject) with account scope.
-- in_service marks the subjects of the service asked for ($service; all when
-- empty): the findings are about them, the account's MAU about everyone.
CREATE OR REPLACE TEMP TABLE hygiene_history AS
WITH subject_month AS (
    SELECT date_trunc('month', occurred_at)::DATE AS month_start,
           CASE WHEN $account THEN '' ELSE service_sid END AS key_service,
           subject_kind,
           subject,
           min(service_sid) AS service_sid,
           min(occurred_at) AS first_at,
           max(occurred_at) AS last_at,
           -- billable only through one kind of activity: avoidable
           bool_and(rule = 'sdk.connect') AS connect_only,
           bool_and(rule = 'rest.user_write') AS rest_write_only,
           bool_and(rule = 'channel.address_added') AS added_silent,
           bool_or(rule IN ('sdk.message', 'rest.message_author')) AS authored,
           $service = '' OR bool_or(service_sid = $service) AS in_service
    FROM ledger_history
    GROUP BY ALL
)
SELECT *,
       lag(month_start) OVER life AS previous_month,
       lead(month_start) OVER life AS next_month,
       count(*) OVER life AS months_billed,
       max(last_at) OVER life - min(first_at) OVER life AS active_span,
       bool_or(authored) OVER life AS ever_authored
FROM subject_month
-- One window for all (one sort): lag and lead ignore the frame.
WINDOW life AS (PARTITION BY key_service, subject_kind, subject ORDER BY month_start
                ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
