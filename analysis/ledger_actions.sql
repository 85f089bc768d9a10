-- Ledger, step 3 of 4: one row per action, however many sources report it.
--
-- A webhook, its Event Streams copy and a REST snapshot row of the same
-- action (the same action key, step 2) are one action, so the rules
-- (step 4) see it once and it is billed, counted by family and rule, and
-- explained once. Never deduplicated on arrival times.
--
-- The action keeps the most informative report: a webhook (it carries
-- Source and ClientIdentity) over an Event Streams copy (which only lets
-- the rules guess) over a snapshot row. Its time is the best-founded of
-- its copies: a CloudEvent time over a receipt time over a resource date
-- (which a REST import can set), the earliest on a tie. Its service is the
-- report's, or any copy's when that one's is unknown.
CREATE OR REPLACE TEMP VIEW ledger_actions AS
SELECT best.source, best.event_type, best.resource, best.action, best.origin, best.client_identity,
       best.conversation_sid, best.evidence, best.identity, best.author, best.address,
       best.participant_sid, best.is_online, best.changed,
       coalesce(nullif(best.svc, ''), known_svc, '') AS svc,
       timing.occurred_at,
       timing.timed_by
FROM (
    SELECT arg_min({'source': source, 'event_type': event_type, 'resource': resource, 'action': action,
                    'origin': origin, 'client_identity': client_identity, 'conversation_sid': conversation_sid,
                    'evidence': evidence, 'identity': identity, 'author': author, 'address': address,
                    'participant_sid': participant_sid, 'is_online': is_online, 'changed': changed,
                    'svc': svc},
                   (CASE source WHEN 'webhook' THEN 0 WHEN 'event_stream' THEN 1 ELSE 2 END,
                    occurred_at, coalesce(event_key, 0))) AS best,
           min({'rank': CASE timed_by WHEN 'time' THEN 0 WHEN 'received_at' THEN 1 ELSE 2 END,
                'occurred_at': occurred_at, 'timed_by': timed_by}) AS timing,
           max(nullif(svc, '')) AS known_svc
    FROM ledger_evidence
    GROUP BY resource, action, sid, key_updated, key_online, key_hour, key_alone
);
