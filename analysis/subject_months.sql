-- Every billed subject of every month, once per service: the summary the
-- report's figures, its billed list and the identity hygiene findings read.
-- Refresh stores it (ledger_subject_months) with the activity ledger, so a
-- report reads about one row per subject and month instead of every
-- activity.
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
INSERT INTO ledger_subject_months
SELECT month, service_sid, subject_kind, subject, inferred, unknown_author,
       count(*) AS activities,
       min({'at': occurred_at, 'rule': rule, 'evidence': evidence, 'service_sid': service_sid,
            'source': source, 'origin': origin, 'inferred': inferred, 'unknown_author': unknown_author,
            'timed_by': timed_by}) AS first,
       max(occurred_at) AS last_at,
       bit_or(rule_bit(rule)) AS rule_bits,
       false AS shadowed
FROM activity_ledger
WHERE family <> 'quality'
GROUP BY month, service_sid, subject_kind, subject, inferred, unknown_author;

-- shadowed: with the default settings (proven activity, unknown authors
-- ignored) a subject of the unknown service that also has a known service
-- in the month counts there only. Marked here, once per build, so that a
-- report need not look across services; other settings fold at read time
-- (Analyzer.subjectMonthsSQL).
UPDATE ledger_subject_months u SET shadowed = true
WHERE service_sid = '' AND NOT inferred AND NOT unknown_author
  AND EXISTS (SELECT 1 FROM ledger_subject_months k
              WHERE k.month = u.month AND k.subject_kind = u.subject_kind AND k.subject = u.subject
                AND k.service_sid <> '' AND NOT k.inferred AND NOT k.unknown_author)
