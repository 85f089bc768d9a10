-- Every billed subject of every month, once per service: the summary the
-- report's figures, its billed list and the identity hygiene findings read,
-- built in one pass over the billable ledger (the ledger view, evidence
-- filtered) instead of one pass each.
--
-- first is the subject's first qualifying activity of the month in that
-- service: min() of a struct compares field by field, so the earliest
-- activity wins, ties broken by rule, then evidence, and so on. rule_bits
-- has a bit per rule the subject qualified by (rule_bit and rule_list are
-- the macros Analyzer.New defines from Rules).
CREATE OR REPLACE TEMP TABLE subject_months AS
SELECT month, service_sid, subject_kind, subject,
       count(*) AS activities,
       min({'at': occurred_at, 'rule': rule, 'evidence': evidence, 'service_sid': service_sid,
            'source': source, 'origin': origin, 'inferred': inferred}) AS first,
       max(occurred_at) AS last_at,
       bit_or(rule_bit(rule)) AS rule_bits
FROM ledger
GROUP BY month, service_sid, subject_kind, subject
