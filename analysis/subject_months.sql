-- Every billed subject of every month, once per service: the summary the
-- report's figures, its billed list and the identity hygiene findings read.
-- Refresh stores it (ledger_subject_months) with the activity ledger, so a
-- report reads about one row per subject and month instead of every
-- activity. It reads the view ledger_scope_activity: the whole ledger for a
-- full build, else the activities of the subject-months an incremental
-- build redid (their old rows deleted first, analysis/ledger.go).
--
-- inferred and unknown_author split a subject's proven activities from its
-- inferred ones (token logs), which count only with --evidence inferred,
-- and from the messages it wrote as an unknown author, which count only
-- with --unknown-authors bill: the analyzer reads the proven ones alone, or
-- merges in the others its settings bill (see Analyzer.subjectMonthsSQL).
--
-- first is the first qualifying activity: min() of a struct compares field
-- by field, so the earliest activity wins, ties broken by rule, then
-- evidence, and so on. rule_bits has a bit per rule the subject qualified
-- by (the macros rule_bit and rule_list map them, from Rules).
--
-- shadowed marks, once per build, a row that counts elsewhere with the
-- default settings (its subject's proven activity in a known service
-- that month), so that a report need not look across services; other
-- settings fold at read time (Analyzer.subjectMonthsSQL). It is worked out
-- from the other rows of the subject-month, which a build always
-- summarises together: an incremental build deletes and summarises again
-- every service's row of a subject-month it touches.
--
-- For the shared-identity finding (hygiene_shared.sql), which a report
-- could not afford to work out from every activity:
-- conversations: the distinct conversations of its activities. A
--   conversation belongs to one service, so the counts of a subject's
--   services add up.
-- at_once: the most conversations it wrote messages in within one
--   five-minute window (windows from the hour on), and at_once_from and
--   at_once_to that window, the earliest of the busiest; 0 and NULL when it
--   wrote none.
-- Both count distinct (subject, conversation) pairs as 64-bit hashes rather
-- than strings, which makes them several times quicker to count; that two
-- of a million subjects share a hash, and so their counts, has less than
-- one chance in ten million.
INSERT INTO ledger_subject_months
WITH in_conversation AS (
    SELECT DISTINCT hash(month, service_sid, subject_kind, subject, inferred, unknown_author) AS subject_key,
           hash(conversation_sid) AS conversation
    FROM ledger_scope_activity
    WHERE family <> 'quality' AND conversation_sid IS NOT NULL
),
conversations AS (
    SELECT subject_key, count(*) AS conversations
    FROM in_conversation
    GROUP BY subject_key
),
written AS (
    SELECT DISTINCT hash(month, service_sid, subject_kind, subject, inferred, unknown_author) AS subject_key,
           time_bucket(INTERVAL '5' MINUTE, occurred_at) AS window_from,
           hash(conversation_sid) AS conversation
    FROM ledger_scope_activity
    WHERE family <> 'quality' AND rule IN ('sdk.message', 'rest.message_author') AND conversation_sid IS NOT NULL
),
busiest AS (
    SELECT subject_key, window_from, at_once FROM (
        SELECT subject_key, window_from, count(*) AS at_once,
               row_number() OVER (PARTITION BY subject_key ORDER BY count(*) DESC, window_from) AS nth
        FROM written
        GROUP BY subject_key, window_from
    ) w
    WHERE nth = 1
)
SELECT s.*, coalesce(c.conversations, 0), coalesce(b.at_once, 0), b.window_from, b.window_from + INTERVAL '5' MINUTE
FROM (
    SELECT month, service_sid, subject_kind, subject, inferred, unknown_author,
           count(*) AS activities,
           min({'at': occurred_at, 'rule': rule, 'evidence': evidence, 'service_sid': service_sid,
                'source': source, 'origin': origin, 'inferred': inferred, 'unknown_author': unknown_author,
                'timed_by': timed_by}) AS first,
           max(occurred_at) AS last_at,
           bit_or(rule_bit(rule)) AS rule_bits,
           -- with the default settings (proven activity, unknown authors
           -- ignored) a subject of the unknown service that also has a
           -- known service in the month counts there only
           service_sid = '' AND NOT inferred AND NOT unknown_author
               AND bool_or(service_sid <> '' AND NOT inferred AND NOT unknown_author)
                       OVER (PARTITION BY month, subject_kind, subject) AS shadowed
    FROM ledger_scope_activity
    WHERE family <> 'quality'
    GROUP BY month, service_sid, subject_kind, subject, inferred, unknown_author
) s
LEFT JOIN conversations c ON c.subject_key = hash(s.month, s.service_sid, s.subject_kind, s.subject, s.inferred, s.unknown_author)
LEFT JOIN busiest b ON b.subject_key = hash(s.month, s.service_sid, s.subject_kind, s.subject, s.inferred, s.unknown_author);