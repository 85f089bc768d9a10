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
evidence AS (
    SELECT * FROM events
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
ev AS (
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
message AS (
    -- Added messages with what their author turned out to be.
    SELECT ev.*,
           ki.identity IS NOT NULL AS author_is_identity,
           pa.address IS NOT NULL AS author_is_address
    FROM ev
    LEFT JOIN known_identity ki ON ki.svc = ev.svc AND ki.identity = ev.author
    LEFT JOIN participant_address pa ON pa.conversation_sid = ev.conversation_sid AND pa.address = ev.author
    WHERE ev.resource = 'message' AND ev.action = 'added' AND coalesce(ev.origin, '') <> 'SDK'
      AND ev.author IS NOT NULL AND ev.author <> 'system'
),
activity AS (
    -- sdk.message
    SELECT ev.*, 'identity' AS subject_kind, coalesce(client_identity, author) AS subject, 'sdk.message' AS rule
    FROM ev
    WHERE origin = 'SDK' AND resource = 'message' AND action = 'added'
      AND coalesce(client_identity, author) IS NOT NULL

    UNION ALL -- sdk.join_leave
    SELECT ev.*, 'identity', coalesce(client_identity, identity), 'sdk.join_leave'
    FROM ev
    WHERE origin = 'SDK' AND resource = 'participant' AND action IN ('added', 'removed')
      AND identity IS NOT NULL AND coalesce(client_identity, identity) = identity

    UNION ALL -- sdk.connect: any other SDK event proves its client was connected
    SELECT ev.*, 'identity', client_identity, 'sdk.connect'
    FROM ev
    WHERE origin = 'SDK' AND client_identity IS NOT NULL
      AND NOT coalesce(resource = 'message' AND action = 'added', false)
      AND NOT coalesce(resource = 'participant' AND action IN ('added', 'removed')
                       AND client_identity = identity, false)

    UNION ALL -- sdk.connect: a user coming online
    SELECT ev.*, 'identity', identity, 'sdk.connect'
    FROM ev
    WHERE resource = 'user' AND is_online AND identity IS NOT NULL
      AND NOT coalesce(origin = 'SDK' AND client_identity = identity, false)

    UNION ALL -- rest.user_write; a reachability change (IsOnline) is not a write
    SELECT ev.*, 'identity', identity, 'rest.user_write'
    FROM ev
    WHERE coalesce(origin, 'API') = 'API' AND resource = 'user' AND action IN ('added', 'updated')
      AND is_online IS NULL AND identity IS NOT NULL

    UNION ALL -- rest.message_author
    SELECT * EXCLUDE (author_is_identity, author_is_address),
           CASE WHEN author_is_identity THEN 'identity' ELSE 'address' END, author, 'rest.message_author'
    FROM message
    WHERE (origin = 'API' AND (author_is_identity OR author_is_address))
       OR (origin IS NULL AND author_is_identity AND NOT author_is_address)

    UNION ALL -- rest.participant_write
    SELECT ev.*, 'identity', identity, 'rest.participant_write'
    FROM ev
    WHERE coalesce(origin, 'API') = 'API' AND resource = 'participant' AND action IN ('added', 'removed')
      AND identity IS NOT NULL AND address IS NULL

    UNION ALL -- channel.inbound_message
    SELECT * EXCLUDE (author_is_identity, author_is_address), 'address', author, 'channel.inbound_message'
    FROM message
    WHERE (origin IS NOT NULL AND origin NOT IN ('API', 'SDK'))
       OR (origin IS NULL AND author_is_address)

    UNION ALL -- channel.address_added
    SELECT ev.*, 'address', address, 'channel.address_added'
    FROM ev
    WHERE resource = 'participant' AND action = 'added' AND address IS NOT NULL

    -- Not billable, kept for the data-quality findings: the family "quality"
    -- never reaches the MAU queries (see ledger.go).
    UNION ALL
    SELECT ev.*, 'author', author, 'quality.system_author'
    FROM ev
    WHERE resource = 'message' AND action = 'added' AND author = 'system'
    UNION ALL
    SELECT * EXCLUDE (author_is_identity, author_is_address), 'author', author, 'quality.unknown_author'
    FROM message
    WHERE coalesce(origin, 'API') = 'API' AND NOT author_is_identity AND NOT author_is_address

    -- sdk.connect, inferred: an access token the customer's token server
    -- issued (ingest tokens). A connection usually follows but need not, so
    -- source 'token_log' marks the row inferred (see the final SELECT) and
    -- it bills only with --evidence inferred. A log line without a service
    -- goes to the one service the identity is known in, else to none ('').
    -- BY NAME: the event columns these rows lack are NULL.
    UNION ALL BY NAME
    SELECT t.issued_at AS occurred_at, coalesce(t.service_sid, ki.svc, '') AS svc,
           'token_log' AS source, t.input_name || ':' || t.input_line AS evidence,
           'identity' AS subject_kind, t.identity AS subject, 'sdk.connect' AS rule
    FROM token_issues t
    LEFT JOIN (SELECT identity, min(svc) AS svc FROM known_identity GROUP BY identity HAVING count(*) = 1) ki
           ON ki.identity = t.identity
)
SELECT occurred_at,
       strftime(occurred_at, '%Y-%m') AS month,
       svc AS service_sid,
       subject_kind,
       subject,
       rule,
       split_part(rule, '.', 1) AS family,
       source,
       coalesce(origin, '') AS origin,
       evidence,
       source = 'token_log' AS inferred -- likely, not proven, activity
FROM activity
QUALIFY row_number() OVER (
    PARTITION BY svc, subject_kind, subject, rule, evidence, coalesce(action, event_type),
                 -- a resource is added or removed once, but updated many times
                 CASE WHEN coalesce(action, '') NOT IN ('added', 'removed') THEN occurred_at END
    ORDER BY occurred_at, source) = 1
