-- Ledger, step 3 of 4: one row per action, however many sources report it,
-- with what is known of a message's author.
--
-- A webhook, its Event Streams copy and a REST snapshot row of the same
-- action (the same action key, step 2) are one action, so the rules
-- (step 4) see it once and it is billed, counted by family and rule, and
-- explained once. Never deduplicated on arrival times.
--
-- The action keeps the most informative report: a webhook (it carries
-- Source and ClientIdentity) over an Event Streams copy (which only lets
-- the rules guess) over a snapshot row, the earliest on a tie. Its time is
-- the best-founded of its copies: a CloudEvent time over a receipt time
-- over a resource date (which a REST import can set), the earliest on a
-- tie. Its service is the report's, or any copy's when that one's is
-- unknown.
--
-- Most actions have one report (ledger_shared_actions lists the others):
-- they pass straight through, and only shared ones are merged, by arg_min over one number (a preference above the time in
-- milliseconds and, for reports, the top bits of the event key, so that
-- equal reports are chosen alike in any order of loading; a number keeps
-- DuckDB on its fast path, where a struct would not). Each report's author
-- is looked up before that, while the evidence is still a table scan: the
-- lists of known identities and participant addresses are then what
-- DuckDB hashes, not the actions.
CREATE OR REPLACE TEMP TABLE ledger_shared_actions AS
SELECT action_hash FROM ledger_evidence GROUP BY action_hash HAVING count(*) > 1;

CREATE OR REPLACE TEMP VIEW ledger_actions AS
WITH looked_up AS NOT MATERIALIZED (
    SELECT e.*,
           ki.identity IS NOT NULL AS author_is_identity,
           pa.address IS NOT NULL AS author_is_address
    FROM ledger_evidence e
    LEFT JOIN ledger_known_identities ki ON ki.svc = e.svc AND ki.identity = e.author
    LEFT JOIN ledger_participant_addresses pa ON pa.conversation_sid = e.conversation_sid AND pa.address = e.author
),
shared AS NOT MATERIALIZED (
    SELECT *,
           -- which report an action keeps, and which time: the least
           (CAST(CASE source WHEN 'webhook' THEN 0 WHEN 'event_stream' THEN 1 ELSE 2 END AS HUGEINT) << 120)
               + ((epoch_ms(occurred_at) + (CAST(1 AS HUGEINT) << 41)) << 72)
               + CAST(coalesce(event_key >> 56, 0) AS HUGEINT) AS report_rank,
           (CAST(CASE timed_by WHEN 'time' THEN 0 WHEN 'received_at' THEN 1 ELSE 2 END AS BIGINT) << 60)
               + epoch_ms(occurred_at) AS time_rank
    FROM looked_up WHERE action_hash IN (SELECT action_hash FROM ledger_shared_actions)
)
SELECT source, event_type, resource, action, origin, client_identity, conversation_sid, evidence,
       identity, author, address, participant_sid, is_online, changed, author_is_identity, author_is_address,
       svc, occurred_at, timed_by, action_hash
FROM looked_up WHERE action_hash NOT IN (SELECT action_hash FROM ledger_shared_actions)
UNION ALL
SELECT min_by(source, report_rank) AS source,
       min_by(event_type, report_rank) AS event_type,
       resource, action,
       min_by(origin, report_rank) AS origin,
       min_by(client_identity, report_rank) AS client_identity,
       min_by(conversation_sid, report_rank) AS conversation_sid,
       min_by(evidence, report_rank) AS evidence,
       min_by(identity, report_rank) AS identity,
       min_by(author, report_rank) AS author,
       min_by(address, report_rank) AS address,
       min_by(participant_sid, report_rank) AS participant_sid,
       min_by(is_online, report_rank) AS is_online,
       min_by(changed, report_rank) AS changed,
       min_by(author_is_identity, report_rank) AS author_is_identity,
       min_by(author_is_address, report_rank) AS author_is_address,
       coalesce(nullif(min_by(svc, report_rank), ''), max(nullif(svc, '')), '') AS svc,
       min_by(occurred_at, time_rank) AS occurred_at,
       min_by(timed_by, time_rank) AS timed_by,
       min(action_hash) AS action_hash -- one per key
FROM shared
GROUP BY resource, action, sid, key_updated, key_online, key_hour, key_alone
