-- Identity hygiene, step 1: every billed subject's months over all the data,
-- one row per (month, subject), with what it did that month. One-shot
-- identities and churn need the months before and after the report's range,
-- so this reads every month of subject_months, not only the range.
--
-- The subject key follows the scope, as the MAU figures do: (service, kind,
-- subject) with service scope, (kind, subject) with account scope.
-- in_service marks the subjects of the service asked for ($service; all when
-- empty): the findings are about them, the account's MAU about everyone.
CREATE OR REPLACE TEMP TABLE hygiene_history AS
WITH subject_month AS (
    SELECT (month || '-01')::DATE AS month_start,
           CASE WHEN $account THEN '' ELSE service_sid END AS key_service,
           subject_kind,
           subject,
           min(service_sid) AS service_sid,
           min(first.at) AS first_at,
           max(last_at) AS last_at,
           bit_or(rule_bits) AS rule_bits,
           $service = '' OR bool_or(service_sid = $service) AS in_service
    FROM subject_months
    GROUP BY ALL
),
judged AS (
    SELECT * EXCLUDE (rule_bits),
           -- billable only through one kind of activity: avoidable
           rule_bits = rule_bit('sdk.connect') AS connect_only,
           rule_bits = rule_bit('rest.user_write') AS rest_write_only,
           rule_bits = rule_bit('channel.address_added') AS added_silent,
           rule_bits & (rule_bit('sdk.message') | rule_bit('rest.message_author')) <> 0 AS authored
    FROM subject_month
)
SELECT *,
       lag(month_start) OVER life AS previous_month,
       lead(month_start) OVER life AS next_month,
       count(*) OVER life AS months_billed,
       max(last_at) OVER life - min(first_at) OVER life AS active_span,
       bool_or(authored) OVER life AS ever_authored
FROM judged
-- One window for all (one sort): lag and lead ignore the frame.
WINDOW life AS (PARTITION BY key_service, subject_kind, subject ORDER BY month_start
                ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
