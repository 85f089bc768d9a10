-- Identity hygiene, step 2: the billed subjects of the report's months (of
-- the service asked for) with their verdicts. hygiene_shapes holds the shape
-- and duplicate key of each subject, hygiene_verdicts the verdict of each
-- shape (see classifySubjects and shape.go), hygiene_shared the identities
-- whose month is unlike one person's (hygiene_shared.sql).
--
-- one_shot: an identity billed in exactly one month of the data, all of its
--   activity within $window_us microseconds, never the author of a message.
-- status: new (never billed before), returning (billed the month before),
--   reactivated (billed before, not the month before).
-- duplicate_group: the duplicate key, when other billed subjects of the
--   month share it and at least one of them is an identity.
-- shared: the identity is in hygiene_shared.
CREATE OR REPLACE TEMP TABLE hygiene_subjects AS
WITH month_subject AS (
    SELECT strftime(h.month_start, '%Y-%m') AS month,
           h.key_service, h.service_sid, h.subject_kind, h.subject,
           s.shape, v.random, v.reason, s.dup_key,
           h.subject_kind = 'identity' AND h.months_billed = 1
               AND h.active_span <= to_microseconds($window_us) AND NOT h.ever_authored AS one_shot,
           CASE WHEN h.previous_month IS NULL THEN 'new'
                WHEN h.previous_month = h.month_start - INTERVAL 1 MONTH THEN 'returning'
                ELSE 'reactivated' END AS status,
           h.connect_only, h.rest_write_only, h.added_silent,
           sh.subject IS NOT NULL AS shared
    FROM hygiene_history h
    JOIN hygiene_shapes s USING (subject)
    JOIN hygiene_verdicts v USING (shape)
    LEFT JOIN hygiene_shared sh
           ON h.subject_kind = 'identity' AND sh.month = strftime(h.month_start, '%Y-%m')
          AND sh.key_service = h.key_service AND sh.subject = h.subject
    WHERE h.month_start BETWEEN $from AND $to AND h.in_service
)
SELECT * EXCLUDE (dup_key),
       CASE WHEN count(*) OVER same_key > 1 AND bool_or(subject_kind = 'identity') OVER same_key
            THEN dup_key END AS duplicate_group
FROM month_subject
WINDOW same_key AS (PARTITION BY month, key_service, dup_key)
