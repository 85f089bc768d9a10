-- Ledger, step 2 of 4: the evidence, each piece with its service and the
-- action it reports.
--
-- Evidence is every stored live event (webhooks, Event Streams) and what
-- the REST snapshots of `ingest twilio` prove: a User's creation and last
-- update, a participant's addition, a message. Snapshot rows read like
-- Event Streams events: no Source, no ClientIdentity. The build reads them
-- through the views ledger_scope_events, _users, _participants and
-- _messages (analysis/ledger.go): all of them for a full build, the part
-- an incremental build redoes otherwise.
--
-- Each piece gets:
--   table_name, row_id  the table and rowid it was read from (the scope
--             views name each row's rowid row_id);
--   svc       its Conversation Service (step 1), '' when unknown;
--   source    webhook, event_stream or rest_snapshot;
--   timed_by  which time occurred_at is: 'time' (the CloudEvent time),
--             'received_at' (when serve received it), else the resource
--             date, 'date_created' or 'date_updated';
--   changed   for an update: its DateUpdated is within a minute of the
--             event's time, so the event reports a change of the resource
--             itself, not only of its reachability (IsOnline);
--   the action key (resource, action, sid, key_*): the same key is the
--             same action reported by several sources (step 3). An update
--             is one action per DateUpdated; a reachability change, whose
--             DateUpdated is old, is one per IsOnline value and hour of the
--             event. Evidence without a SID (pre-events) is its own action.
-- The SID of the resource an action is about. An incremental build redoes
-- every action whose SID it names (ledger_increment.sql).
CREATE OR REPLACE TEMP MACRO action_sid(resource, message_sid, participant_sid, user_sid, conversation_sid) AS
    CASE resource WHEN 'message' THEN message_sid
                  WHEN 'participant' THEN participant_sid
                  WHEN 'user' THEN user_sid
                  WHEN 'conversation' THEN conversation_sid
                  WHEN 'conversation_state' THEN conversation_sid END;

-- The month an activity at time t counts in: YYYY-MM of t (UTC).
CREATE OR REPLACE TEMP MACRO ledger_month(t) AS substring(CAST(t AS VARCHAR) FROM 1 FOR 7);

CREATE OR REPLACE TEMP VIEW ledger_evidence AS
WITH snapshot AS (
    SELECT 'twilio_users' AS table_name, row_id,
           'user' AS resource, 'added' AS action, service_sid, sid AS user_sid, identity,
           date_created AS occurred_at, 'date_created' AS timed_by
    FROM ledger_scope_users WHERE date_created IS NOT NULL
    UNION ALL BY NAME
    SELECT 'twilio_users' AS table_name, row_id,
           'user' AS resource, 'updated' AS action, service_sid, sid AS user_sid, identity,
           date_updated AS occurred_at, 'date_updated' AS timed_by, date_updated
    FROM ledger_scope_users WHERE date_updated > date_created
    UNION ALL BY NAME
    SELECT 'twilio_participants' AS table_name, row_id,
           'participant' AS resource, 'added' AS action, service_sid, conversation_sid, sid AS participant_sid,
           identity, address, date_created AS occurred_at, 'date_created' AS timed_by
    FROM ledger_scope_participants WHERE date_created IS NOT NULL
    UNION ALL BY NAME
    SELECT 'twilio_messages' AS table_name, row_id,
           'message' AS resource, 'added' AS action, service_sid, conversation_sid, sid AS message_sid,
           author, participant_sid, date_created AS occurred_at, 'date_created' AS timed_by
    FROM ledger_scope_messages WHERE date_created IS NOT NULL
),
evidence AS (
    -- Only the columns the rules read: never the payloads.
    SELECT 'events' AS table_name, row_id,
           CASE format WHEN 'cloudevent' THEN 'event_stream' ELSE 'webhook' END AS source,
           event_type, resource, action, origin, client_identity, service_sid, conversation_sid,
           message_sid, participant_sid, user_sid, identity, author, address, is_online,
           occurred_at, date_updated, event_key,
           CASE WHEN event_time IS NOT NULL THEN 'time'
                WHEN received_at IS NOT NULL THEN 'received_at'
                WHEN action = 'added' THEN 'date_created'
                ELSE 'date_updated' END AS timed_by
    FROM ledger_scope_events
    UNION ALL BY NAME
    SELECT 'rest_snapshot' AS source, 'snapshot' AS event_type, * FROM snapshot
),
attributed AS (
    SELECT e.*,
           coalesce(e.service_sid, nullif(cs.service_sid, ''), nullif(us.service_sid, ''), os.service_sid, '') AS svc,
           action_sid(e.resource, e.message_sid, e.participant_sid, e.user_sid, e.conversation_sid) AS sid,
           -- the SID an activity is proven by
           coalesce(e.message_sid, e.participant_sid, e.user_sid, e.conversation_sid, '') AS evidence,
           e.action = 'updated' AND e.date_updated IS NOT NULL
               AND abs(date_diff('millisecond', e.date_updated, e.occurred_at)) <= 60000 AS changed
    FROM evidence e
    -- the stored services of step 1: all of them for a whole build, those
    -- of the conversations and users the evidence names for an
    -- incremental one (ledger_increment.sql)
    LEFT JOIN ledger_stored_conversation_services cs ON cs.conversation_sid = e.conversation_sid
    LEFT JOIN ledger_stored_user_services us ON us.user_sid = e.user_sid
    LEFT JOIN ledger_only_service os ON true
)
SELECT *,
       -- the REST API gives whole seconds where events give milliseconds
       CASE WHEN action = 'updated' THEN date_trunc('second', date_updated) END AS key_updated,
       CASE WHEN action = 'updated' AND NOT changed THEN is_online END AS key_online,
       CASE WHEN action = 'updated' AND NOT changed THEN date_trunc('hour', occurred_at) END AS key_hour,
       CASE WHEN sid IS NULL OR action IS NULL THEN event_key END AS key_alone,
       -- the action key in one number: tells cheaply which actions more
       -- than one report tells (a collision only sends two reports down
       -- the merging path of step 3, which compares the key itself)
       hash(resource, action, sid,
            CASE WHEN action = 'updated' THEN date_trunc('second', date_updated) END,
            CASE WHEN action = 'updated' AND NOT changed THEN is_online END,
            CASE WHEN action = 'updated' AND NOT changed THEN date_trunc('hour', occurred_at) END,
            CASE WHEN sid IS NULL OR action IS NULL THEN event_key END) AS action_hash
FROM attributed;

-- What this evidence teaches about authors: the identities each service
-- knows (users, participants, SDK clients) and the addresses taking part in
-- each conversation. The stored ledger_known_identities and
-- ledger_participant_addresses are these views over all the evidence,
-- which an incremental build keeps up to date (ledger_increment.sql).
-- (The identities are a list of two, unnested, so that the evidence is
-- read once.)
CREATE OR REPLACE TEMP VIEW ledger_evidence_identities AS
SELECT DISTINCT svc, identity FROM (
    SELECT svc, unnest([CASE WHEN address IS NULL THEN identity END, client_identity]) AS identity
    FROM ledger_evidence
    WHERE (identity IS NOT NULL AND address IS NULL) OR client_identity IS NOT NULL
)
WHERE identity IS NOT NULL;

CREATE OR REPLACE TEMP VIEW ledger_evidence_addresses AS
SELECT DISTINCT conversation_sid, address FROM ledger_evidence
WHERE resource = 'participant' AND address IS NOT NULL;
