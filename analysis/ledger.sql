-- The activity ledger: one row per qualifying activity, the spine every MAU,
-- cost and explanation query reads. This file is the billing rules table of
-- DESIGN.md, written once:
--
-- | rule                    | family  | from the events                                        |
-- |-------------------------|---------|--------------------------------------------------------|
-- | sdk.connect             | sdk     | any event with Source SDK not covered by the two below, |
-- |                         |         | for its ClientIdentity (it proves a connection); a user  |
-- |                         |         | coming online (IsOnline true)                            |
-- | sdk.message             | sdk     | a message added from an SDK, for its ClientIdentity     |
-- | sdk.join_leave          | sdk     | a participant added or removed from an SDK by itself     |
-- | rest.user_write         | rest    | a User added or updated through the API                  |
-- | rest.message_author     | rest    | a message added through the API, for its Author when     |
-- |                         |         | the Author is a known identity or participant address   |
-- | rest.participant_write  | rest    | an identity added to or removed from a conversation      |
-- |                         |         | through the API                                          |
-- | channel.inbound_message | channel | a message added from SMS, WhatsApp or another channel,  |
-- |                         |         | for its Author (the address)                             |
-- | channel.address_added   | channel | a participant with a MessagingBinding.Address added      |
--
-- Inferred (billed only with --evidence inferred, column inferred): an
-- access token issued to an identity, from a token-server log, counts as
-- sdk.connect with source token_log.
--
-- Deliberately not activity: reading; a message merely received; a message
-- with the default author "system" or an author that is nobody (kept as
-- data-quality rows of family "quality", never billed); updates of conversations and
-- participants through the API; a user going offline.
--
-- Event Streams payloads carry no Source field: such events are taken as API
-- actions, except a message whose Author is a participant address of its
-- conversation, which came in from that channel.
--
-- The same activity reported twice (a webhook and an Event Streams copy of
-- one message) is one row: rows are deduplicated on the evidence SID and the
-- action, never on arrival times.
--
-- REST snapshots (`ingest twilio`) are a third source, "rest_snapshot": a
-- User's creation and last update, a participant's addition and a message
-- read like Event Streams events (they carry no Source either), so the same
-- rules apply to them. An activity that a live event also reports (same SID
-- and action) is left to the live event, which knows more (its Source).
WITH snapshot AS (
    SELECT 'user' AS resource, 'added' AS action, service_sid, sid AS user_sid, identity, date_created AS occurred_at
    FROM twilio_users WHERE date_created IS NOT NULL
    UNION ALL BY NAME
    SELECT 'user' AS resource, 'updated' AS action, service_sid, sid AS user_sid, identity, date_updated AS occurred_at
    FROM twilio_users WHERE date_updated > date_created
    UNION ALL BY NAME
    SELECT 'participant' AS resource, 'added' AS action, service_sid, conversation_sid, sid AS participant_sid,
           identity, address, date_created AS occurred_at
    FROM twilio_participants WHERE date_created IS NOT NULL
    UNION ALL BY NAME
    SELECT 'message' AS resource, 'added' AS action, service_sid, conversation_sid, sid AS message_sid,
           author, date_created AS occurred_at
    FROM twilio_messages WHERE date_created IS NOT NULL
),
snapshot_only AS (
    SELECT s.*, 'rest' AS format, 'snapshot' AS event_type FROM snapshot s
    WHERE NOT EXISTS (
        SELECT 1 FROM events e
        WHERE e.resource = s.resource AND e.action = s.action
          AND coalesce(e.message_sid, e.participant_sid, e.user_sid) = coalesce(s.message_sid, s.participant_sid, s.user_sid)
          -- a resource is added once, but updated many times; the REST API
          -- gives whole seconds where events may give milliseconds
          AND (s.action = 'added' OR date_trunc('second', e.occurred_at) = s.occurred_at))
),
evidence AS NOT MATERIALIZED (
    -- Only the columns the rules read: never the payloads.
    SELECT format, event_type, resource, action, origin, client_identity, service_sid,
           conversation_sid, message_sid, participant_sid, user_sid, identity, author,
           address, is_online, event_id, idempotency_token, occurred_at
    FROM events
    UNION ALL BY NAME
    SELECT * FROM snapshot_only
),
conversation_service AS (
    -- CloudEvents may lack the service SID; the conversation tells it.
    SELECT conversation_sid, min(service_sid) AS service_sid
    FROM events
    WHERE service_sid IS NOT NULL AND conversation_sid IS NOT NULL
    GROUP BY conversation_sid
),
-- NOT MATERIALIZED: ev is read three times, and each read streams; held in
-- memory it would be the size of the events table.
ev AS NOT MATERIALIZED (
    SELECT e.*,
           coalesce(e.service_sid, cs.service_sid, '') AS svc,
           CASE e.format WHEN 'cloudevent' THEN 'event_stream' WHEN 'rest' THEN 'rest_snapshot' ELSE 'webhook' END AS source,
           coalesce(e.message_sid, e.participant_sid, e.user_sid, e.event_id,
                    e.idempotency_token, e.conversation_sid, '') AS evidence
    FROM evidence e
    LEFT JOIN conversation_service cs USING (conversation_sid)
),
known_identity AS (
    SELECT DISTINCT svc, identity FROM (
        SELECT svc, identity FROM ev WHERE identity IS NOT NULL AND address IS NULL
        UNION ALL
        SELECT svc, client_identity FROM ev WHERE client_identity IS NOT NULL
    )
),
participant_address AS (
    SELECT DISTINCT conversation_sid, address FROM ev
    WHERE resource = 'participant' AND address IS NOT NULL
),
classified AS (
    -- Each event with what it is: message marks a message added other than
    -- from an SDK, with a real author, whose author the joins identify.
    SELECT ev.*,
           resource = 'message' AND action = 'added' AND coalesce(origin, '') <> 'SDK'
               AND author IS NOT NULL AND author <> 'system' AS message,
           ki.identity IS NOT NULL AS author_is_identity,
           pa.address IS NOT NULL AS author_is_address
    FROM ev
    LEFT JOIN known_identity ki ON ki.svc = ev.svc AND ki.identity = ev.author
    LEFT JOIN participant_address pa ON pa.conversation_sid = ev.conversation_sid AND pa.address = ev.author
),
activity AS (
    -- One pass over the events: each yields the activities its rules find
    -- (most yield one, some two, many none).
    SELECT occurred_at, svc, source, origin, evidence, action, event_type,
           unnest(list_filter([
               CASE WHEN origin = 'SDK' AND resource = 'message' AND action = 'added'
                         AND coalesce(client_identity, author) IS NOT NULL
                    THEN {'kind': 'identity', 'subject': coalesce(client_identity, author), 'rule': 'sdk.message'} END,

               CASE WHEN origin = 'SDK' AND resource = 'participant' AND action IN ('added', 'removed')
                         AND identity IS NOT NULL AND coalesce(client_identity, identity) = identity
                    THEN {'kind': 'identity', 'subject': coalesce(client_identity, identity), 'rule': 'sdk.join_leave'} END,

               -- any other SDK event proves its client was connected
               CASE WHEN origin = 'SDK' AND client_identity IS NOT NULL
                         AND NOT coalesce(resource = 'message' AND action = 'added', false)
                         AND NOT coalesce(resource = 'participant' AND action IN ('added', 'removed')
                                          AND client_identity = identity, false)
                    THEN {'kind': 'identity', 'subject': client_identity, 'rule': 'sdk.connect'} END,

               -- a user coming online
               CASE WHEN resource = 'user' AND is_online AND identity IS NOT NULL
                         AND NOT coalesce(origin = 'SDK' AND client_identity = identity, false)
                    THEN {'kind': 'identity', 'subject': identity, 'rule': 'sdk.connect'} END,

               -- a reachability change (IsOnline) is not a write
               CASE WHEN coalesce(origin, 'API') = 'API' AND resource = 'user' AND action IN ('added', 'updated')
                         AND is_online IS NULL AND identity IS NOT NULL
                    THEN {'kind': 'identity', 'subject': identity, 'rule': 'rest.user_write'} END,

               CASE WHEN message AND ((origin = 'API' AND (author_is_identity OR author_is_address))
                                      OR (origin IS NULL AND author_is_identity AND NOT author_is_address))
                    THEN {'kind': CASE WHEN author_is_identity THEN 'identity' ELSE 'address' END,
                          'subject': author, 'rule': 'rest.message_author'} END,

               CASE WHEN coalesce(origin, 'API') = 'API' AND resource = 'participant' AND action IN ('added', 'removed')
                         AND identity IS NOT NULL AND address IS NULL
                    THEN {'kind': 'identity', 'subject': identity, 'rule': 'rest.participant_write'} END,

               CASE WHEN message AND ((origin IS NOT NULL AND origin NOT IN ('API', 'SDK'))
                                      OR (origin IS NULL AND author_is_address))
                    THEN {'kind': 'address', 'subject': author, 'rule': 'channel.inbound_message'} END,

               CASE WHEN resource = 'participant' AND action = 'added' AND address IS NOT NULL
                    THEN {'kind': 'address', 'subject': address, 'rule': 'channel.address_added'} END,

               -- Not billable, kept for the data-quality findings: the
               -- family "quality" never reaches the MAU queries (analyzer.go).
               CASE WHEN resource = 'message' AND action = 'added' AND author = 'system'
                    THEN {'kind': 'author', 'subject': author, 'rule': 'quality.system_author'} END,
               CASE WHEN message AND coalesce(origin, 'API') = 'API' AND NOT author_is_identity AND NOT author_is_address
                    THEN {'kind': 'author', 'subject': author, 'rule': 'quality.unknown_author'} END
           ], a -> a IS NOT NULL), recursive := true)
    FROM classified

    -- sdk.connect, inferred: an access token the customer's token server
    -- issued (ingest tokens). A connection usually follows but need not, so
    -- source 'token_log' marks the row inferred (see the final SELECT) and
    -- it bills only with --evidence inferred. A log line without a service
    -- goes to the one service the identity is known in, else to none ('').
    -- BY NAME: the event columns these rows lack are NULL.
    UNION ALL BY NAME
    SELECT t.issued_at AS occurred_at, coalesce(t.service_sid, ki.svc, '') AS svc,
           'token_log' AS source, t.input_name || ':' || t.input_line AS evidence,
           'identity' AS kind, t.identity AS subject, 'sdk.connect' AS rule
    FROM token_issues t
    LEFT JOIN (SELECT identity, min(svc) AS svc FROM known_identity GROUP BY identity HAVING count(*) = 1) ki
           ON ki.identity = t.identity
)
SELECT occurred_at,
       strftime(occurred_at, '%Y-%m') AS month,
       svc AS service_sid,
       kind AS subject_kind,
       subject,
       rule,
       split_part(rule, '.', 1) AS family,
       source,
       coalesce(origin, '') AS origin,
       evidence,
       source = 'token_log' AS inferred -- likely, not proven, activity
FROM (
    -- The same activity reported twice is one row, the first report of it.
    SELECT svc, kind, subject, rule, evidence,
           min(occurred_at) AS occurred_at,
           arg_min(source, (occurred_at, source)) AS source,
           arg_min(origin, (occurred_at, source)) AS origin
    FROM activity
    GROUP BY svc, kind, subject, rule, evidence, coalesce(action, event_type),
             -- a resource is added or removed once, but updated many times
             CASE WHEN coalesce(action, '') NOT IN ('added', 'removed') THEN occurred_at END
)
