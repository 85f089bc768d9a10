-- Ledger, step 4 of 4: the billing rules. One row per qualifying activity,
-- the spine every MAU, cost and explanation query reads. This file is the
-- billing rules table of DESIGN.md and README, written once, over the
-- actions of step 3 (ledger_actions.sql: each action once, with its
-- service and its best-founded time):
--
-- | rule                    | family  | from the actions                                         |
-- |-------------------------|---------|----------------------------------------------------------|
-- | sdk.connect             | sdk     | any action with Source SDK not covered by the two below, |
-- |                         |         | for its ClientIdentity (it proves a connection); a User  |
-- |                         |         | reported online (IsOnline true), at the event's time     |
-- | sdk.message             | sdk     | a message added from an SDK, for its ClientIdentity      |
-- | sdk.join_leave          | sdk     | a participant added or removed from an SDK by itself     |
-- | rest.user_write         | rest    | a User added; a User updated with Source API, or without |
-- |                         |         | Source (Event Streams, snapshot) when its DateUpdated is |
-- |                         |         | the event's own time (within a minute), whatever IsOnline|
-- |                         |         | says                                                     |
-- | rest.message_author     | rest    | a message added through the API (or without Source) for  |
-- |                         |         | its Author: a participant (it carries a ParticipantSid), |
-- |                         |         | or a known identity or participant address               |
-- | rest.participant_write  | rest    | an identity added to or removed from a conversation      |
-- |                         |         | through the API (or without Source)                      |
-- | channel.inbound_message | channel | a message added from SMS, WhatsApp or another channel,   |
-- |                         |         | for its Author; without Source, a message whose Author   |
-- |                         |         | is a channel address of a participant                    |
-- | channel.address_added   | channel | a participant with a MessagingBinding.Address added      |
--
-- Authors. `system` is nobody. A message that carries a ParticipantSid was
-- written by a participant of its conversation: its Author is billed even
-- when nothing else of that participant was captured, as an address when
-- it has the form of a channel address (+E.164, whatsapp:, messenger:,
-- gbm:, rcs:, apple:, instagram:, email:), else as an identity. An Author
-- without a ParticipantSid that is neither a known identity of the service
-- nor a participant address of the conversation is an unknown author: its
-- row is kept with unknown_author true and bills only with
-- --unknown-authors bill (by default it is a data-quality finding).
--
-- Event Streams and snapshots carry no Source: their actions are taken as
-- API actions, except a message from a channel address, which came in
-- from that channel. When a webhook of the same action exists, step 3 has
-- already kept the webhook, whose Source is known.
--
-- Inferred (billed only with --evidence inferred, column inferred): an
-- access token issued to an identity, from a token-server log, counts as
-- sdk.connect with source token_log.
--
-- Deliberately not activity: reading; a message merely received; a message
-- by `system` (kept as a data-quality row, family "quality", never billed);
-- updates of conversations and participants through the API; a User going
-- offline (IsOnline false with an older DateUpdated).
--
-- Maintenance. The rules run over all the actions (ledger_full.sql) or over
-- only those the evidence loaded since the last build can change
-- (ledger_increment.sql, which lists them: the new evidence's own actions
-- with every other report of them, actions whose service or author's
-- standing that evidence teaches, and the token-log lines of identities it
-- makes known or unknown). What forces the wider, whole build
-- (analysis/ledger.go decides): no stored ledger, or one built by other
-- rules; a changed REST snapshot (ingest twilio replaces rows in place);
-- evidence the last build took in gone, or new evidence stored with an
-- earlier load time than that build's; more than 10,000 new events making
-- up more than a quarter of those already taken in.
WITH classified AS (
    SELECT a.*,
           resource = 'message' AND action = 'added' AND coalesce(origin, '') <> 'SDK'
               AND author IS NOT NULL AND author <> 'system' AS message,
           coalesce(origin, 'API') = 'API' AS by_api, -- API, or no Source to tell
           (author LIKE '+%' AND substring(author FROM 2 FOR 1) BETWEEN '0' AND '9')
               OR author LIKE 'whatsapp:%' OR author LIKE 'messenger:%' OR author LIKE 'gbm:%'
               OR author LIKE 'rcs:%' OR author LIKE 'apple:%' OR author LIKE 'instagram:%'
               OR author LIKE 'email:%' AS author_address_form
    FROM ledger_actions a
),
authored AS (
    -- A message's author, for the messages the API (or no Source) added:
    -- kind, and whether anyone knows it.
    SELECT *,
           CASE WHEN participant_sid IS NOT NULL THEN CASE WHEN author_address_form THEN 'address' ELSE 'identity' END
                WHEN author_is_address THEN 'address'
                WHEN author_is_identity THEN 'identity'
                WHEN author_address_form THEN 'address'
                ELSE 'identity' END AS author_kind,
           participant_sid IS NULL AND NOT author_is_identity AND NOT author_is_address AS author_unknown
    FROM classified
),
activity AS (
    -- Each action yields the activities its rules find (most one, some
    -- two, many none).
    SELECT occurred_at, timed_by, svc, source, origin, evidence, conversation_sid, action_hash,
           unnest(list_filter([
               CASE WHEN origin = 'SDK' AND resource = 'message' AND action = 'added'
                         AND coalesce(client_identity, author) IS NOT NULL
                    THEN {'kind': 'identity', 'subject': coalesce(client_identity, author), 'rule': 'sdk.message', 'unknown': false} END,

               CASE WHEN origin = 'SDK' AND resource = 'participant' AND action IN ('added', 'removed')
                         AND identity IS NOT NULL AND coalesce(client_identity, identity) = identity
                    THEN {'kind': 'identity', 'subject': identity, 'rule': 'sdk.join_leave', 'unknown': false} END,

               -- any other SDK event proves its client was connected
               CASE WHEN origin = 'SDK' AND client_identity IS NOT NULL
                         AND NOT coalesce(resource = 'message' AND action = 'added', false)
                         AND NOT coalesce(resource = 'participant' AND action IN ('added', 'removed')
                                          AND client_identity = identity, false)
                    THEN {'kind': 'identity', 'subject': client_identity, 'rule': 'sdk.connect', 'unknown': false} END,

               -- a User reported online
               CASE WHEN resource = 'user' AND is_online AND identity IS NOT NULL
                         AND NOT coalesce(origin = 'SDK' AND client_identity = identity, false)
                    THEN {'kind': 'identity', 'subject': identity, 'rule': 'sdk.connect', 'unknown': false} END,

               -- a User written through the API: created, or updated at the
               -- event's time (a reachability change leaves DateUpdated old)
               CASE WHEN by_api AND resource = 'user' AND identity IS NOT NULL
                         AND (action = 'added' OR (action = 'updated' AND (origin = 'API' OR changed)))
                    THEN {'kind': 'identity', 'subject': identity, 'rule': 'rest.user_write', 'unknown': false} END,

               CASE WHEN message AND by_api AND NOT (origin IS NULL AND author_kind = 'address' AND NOT author_unknown)
                    THEN {'kind': author_kind, 'subject': author, 'rule': 'rest.message_author', 'unknown': author_unknown} END,

               CASE WHEN by_api AND resource = 'participant' AND action IN ('added', 'removed')
                         AND identity IS NOT NULL AND address IS NULL
                    THEN {'kind': 'identity', 'subject': identity, 'rule': 'rest.participant_write', 'unknown': false} END,

               CASE WHEN message AND (NOT by_api OR (origin IS NULL AND author_kind = 'address' AND NOT author_unknown))
                    THEN {'kind': 'address', 'subject': author, 'rule': 'channel.inbound_message', 'unknown': false} END,

               CASE WHEN resource = 'participant' AND action = 'added' AND address IS NOT NULL
                    THEN {'kind': 'address', 'subject': address, 'rule': 'channel.address_added', 'unknown': false} END,

               -- Not billable, kept for the data-quality findings: the
               -- family "quality" never reaches the MAU queries.
               CASE WHEN resource = 'message' AND action = 'added' AND author = 'system'
                    THEN {'kind': 'author', 'subject': author, 'rule': 'quality.system_author', 'unknown': false} END
           ], a -> a IS NOT NULL), recursive := true)
    FROM authored

    -- sdk.connect, inferred: an access token the customer's token server
    -- issued (ingest tokens). A connection usually follows but need not, so
    -- source 'token_log' marks the row inferred (see the final SELECT) and
    -- it bills only with --evidence inferred. A log line without a service
    -- goes to the one service the identity is known in, else to none ('').
    -- BY NAME: the action columns these rows lack are NULL.
    UNION ALL BY NAME
    SELECT t.issued_at AS occurred_at, 'issued_at' AS timed_by, coalesce(t.service_sid, ki.svc, '') AS svc,
           'token_log' AS source, t.input_name || ':' || t.input_line AS evidence,
           'identity' AS kind, t.identity AS subject, 'sdk.connect' AS rule, false AS unknown
    FROM ledger_scope_tokens t
    LEFT JOIN (SELECT identity, min(svc) AS svc FROM ledger_known_identities
               WHERE svc <> '' AND identity IN (SELECT identity FROM ledger_scope_tokens)
               GROUP BY identity HAVING count(*) = 1) ki
           ON ki.identity = t.identity
)
SELECT occurred_at,
       ledger_month(occurred_at) AS month, -- YYYY-MM
       svc AS service_sid,
       kind AS subject_kind,
       subject,
       rule,
       split_part(rule, '.', 1) AS family,
       source,
       coalesce(origin, '') AS origin,
       evidence,
       source = 'token_log' AS inferred, -- likely, not proven, activity
       unknown AS unknown_author,
       timed_by,
       conversation_sid,
       action_hash -- the action it comes from; NULL for a token-log line
FROM activity
