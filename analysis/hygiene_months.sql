-- Identity hygiene: every billed subject's months, each subject's rows one
-- after the other in order of month, so that hygiene.go walks each
-- subject's life as one run of rows: whether a month is its first, follows
-- a billed month or comes back after a gap (status), whether it churned
-- the month after, and how many months and how long it was billed in all
-- (one-shot). The subjects come in order of their key, which with service
-- scope is the order `identities` lists them in.
--
-- It reads the rows of the months $before (the month before the report's,
-- for churn) to $to; of the other months, only what a subject's life
-- needs: how many, and whether one came before $before (a subject with
-- any is not one-shot, so nothing else of them counts).
--
-- The subject key follows the scope, as the MAU figures do: (service, kind,
-- subject) with service scope, (kind, subject) with account scope, whose
-- rows of one month (one per service) come least service first, for Go to
-- merge. in_service marks the rows of the service asked for ($service; all
-- when empty): the findings are about them, the account's MAU about
-- everyone.
WITH other_months AS (
    SELECT CASE WHEN $account THEN '' ELSE service_sid END AS key_service, subject_kind, subject,
           count(DISTINCT month) AS months,
           bool_or(month < $before) AS billed_before
    FROM subject_months
    WHERE month NOT BETWEEN $before AND $to
    GROUP BY ALL
),
months_read AS (
    SELECT *, CASE WHEN $account THEN '' ELSE service_sid END AS key_service
    FROM subject_months
    WHERE month BETWEEN $before AND $to
)
SELECT r.subject_kind = 'identity' AS identity,
       r.subject,
       date_diff('month', $before_start::DATE, (r.month || '-01')::DATE) AS month_index,
       r.service_sid,
       epoch_us(r.first.at) AS first_us,
       epoch_us(r.last_at) AS last_us,
       r.rule_bits,
       $service = '' OR r.service_sid = $service AS in_service,
       coalesce(o.months, 0) AS other_months,
       coalesce(o.billed_before, false) AS billed_before
FROM months_read r
LEFT JOIN other_months o USING (key_service, subject_kind, subject)
ORDER BY r.key_service, r.subject_kind, r.subject, month_index, r.service_sid
