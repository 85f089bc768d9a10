-- Identity hygiene, shared identities: the identities of the report's months
-- whose activity in a month is unlike one person's, with the numbers that
-- say so (the lint finding "shared": lint.go words it and holds the
-- thresholds). It reads the figures the stored ledger summary keeps per
-- service, subject and month (subject_months.sql), so an identity is judged
-- in each Conversation Service (a conversation belongs to one), whatever
-- the scope. Either signal is enough:
--
-- conversations: the identity took part in at least $min_conversations
--   conversations in the month, and in more than $factor times the account's
--   99.9th percentile of conversations per identity that month (over the
--   identities active in a conversation, in every service). An identity
--   takes part in a conversation when any of its activities happened there:
--   a message, being added or removed, joining, a read or an edit from an
--   SDK. The percentile makes a support agent, busy but one person, normal
--   in an account of agents; the floor keeps a small account's numbers from
--   flagging anyone. The percentile is the nearest rank, but never more than
--   the second-busiest identity's count: in an account of fewer than a
--   thousand identities the nearest rank is the busiest identity itself,
--   which could then never stand out.
-- at_once: it wrote messages in at least $overlap_conversations
--   conversations within one five-minute window, which one person does not:
--   a login that a team, or the visitors of a web widget, share.
--
-- Keyed as hygiene_months.sql keys a subject: (service, identity) with service
-- scope; with account scope the identity alone, with its busiest service's
-- numbers.
CREATE OR REPLACE TEMP TABLE hygiene_shared AS
WITH identities AS (
    SELECT * FROM subject_months
    WHERE month BETWEEN $from AND $to AND subject_kind = 'identity'
),
percentile AS (
    SELECT month,
           least(quantile_disc(conversations, 0.999), max(conversations, 2)[2]) AS p999
    FROM identities
    WHERE conversations > 0
    GROUP BY month
),
judged AS (
    SELECT *,
           conversations >= $min_conversations AND conversations > $factor * p999 AS many,
           at_once >= $overlap_conversations AS busy
    FROM identities JOIN percentile USING (month)
    WHERE conversations >= $min_conversations OR at_once >= $overlap_conversations
)
SELECT month, CASE WHEN $account THEN '' ELSE service_sid END AS key_service, subject,
       max(CASE WHEN many THEN conversations ELSE 0 END) AS conversations,
       max(CASE WHEN many THEN p999 ELSE 0 END) AS p999,
       max(CASE WHEN busy THEN at_once ELSE 0 END) AS at_once,
       arg_max(at_once_from, CASE WHEN busy THEN at_once END) AS at_once_from,
       arg_max(at_once_to, CASE WHEN busy THEN at_once END) AS at_once_to
FROM judged
WHERE many OR busy
GROUP BY ALL
