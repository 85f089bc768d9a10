-- Ledger, incremental build: the actions that the evidence loaded since the
-- last build can change, built again, and nothing else. analysis/ledger.go
-- runs it, in the build's transaction, after steps 1 and 2 defined their
-- views, when only events and token-log lines were added since then (see
-- there for what makes it build the whole ledger instead). It ends with the
-- ledger_scope_* views reading the evidence of those actions, which
-- ledger.go then builds (steps 3 and 4) into the place of their old rows.
--
-- What new evidence can change, and so what is redone:
--   * its own actions, with every other report of them (the same SID,
--     whatever source and time: step 3 merges them);
--   * the service of older events without ChatServiceSid whose conversation
--     or user it names with a service for the first time (or a lesser
--     one): their actions;
--   * the identities a service knows, through those re-attributed events or
--     new ones: every message, any time, whose Author is such an identity
--     (is it a known identity, an address, an unknown author?), and every
--     token-log line of that identity (its service comes from them);
--   * the addresses taking part in a conversation: the messages of that
--     conversation with such an Author;
--   * the monthly summary of every subject whose activities were redone.
-- Actions are found by their SID, so a month is redone only where one of
-- its actions is, and the chain of knowledge is followed wherever it goes.

-- 0. What the last build took in: events and token-log lines loaded up to
-- these times (ledger.go checked that nothing older was added since).
CREATE OR REPLACE TEMP TABLE ledger_since AS
SELECT coalesce(events_loaded_to, '-infinity'::TIMESTAMP) AS events,
       coalesce(tokens_loaded_to, '-infinity'::TIMESTAMP) AS tokens
FROM ledger_state;

-- 1. What new events teach about services, merged into the stored tables.
CREATE OR REPLACE TEMP VIEW ledger_scope_events AS
SELECT * FROM events WHERE loaded_at > (SELECT events FROM ledger_since);
CREATE OR REPLACE TEMP VIEW ledger_scope_conversations AS SELECT * FROM twilio_conversations WHERE false;
CREATE OR REPLACE TEMP VIEW ledger_scope_users AS SELECT * FROM twilio_users WHERE false;
CREATE OR REPLACE TEMP VIEW ledger_scope_participants AS SELECT * FROM twilio_participants WHERE false;
CREATE OR REPLACE TEMP VIEW ledger_scope_messages AS SELECT * FROM twilio_messages WHERE false;

CREATE OR REPLACE TEMP TABLE ledger_changed_conversations AS
SELECT n.conversation_sid, n.service_sid
FROM ledger_scope_conversation_services n
LEFT JOIN ledger_conversation_services o ON o.conversation_sid = n.conversation_sid
WHERE o.service_sid IS NULL OR n.service_sid < o.service_sid;
DELETE FROM ledger_conversation_services
WHERE conversation_sid IN (SELECT conversation_sid FROM ledger_changed_conversations);
INSERT INTO ledger_conversation_services SELECT conversation_sid, service_sid FROM ledger_changed_conversations;

CREATE OR REPLACE TEMP TABLE ledger_changed_users AS
SELECT n.user_sid, n.service_sid
FROM ledger_scope_user_services n
LEFT JOIN ledger_user_services o ON o.user_sid = n.user_sid
WHERE o.service_sid IS NULL OR n.service_sid < o.service_sid;
DELETE FROM ledger_user_services WHERE user_sid IN (SELECT user_sid FROM ledger_changed_users);
INSERT INTO ledger_user_services SELECT user_sid, service_sid FROM ledger_changed_users;

-- 2. The events whose service may now differ: the new ones, and the older
-- ones without ChatServiceSid of a conversation or user just learnt. The
-- identities they name may now be known in another service.
CREATE OR REPLACE TEMP TABLE ledger_reattributed AS
SELECT * EXCLUDE (payload) FROM events
WHERE loaded_at > (SELECT events FROM ledger_since)
   OR (service_sid IS NULL
       AND (conversation_sid IN (SELECT conversation_sid FROM ledger_changed_conversations)
            OR user_sid IN (SELECT user_sid FROM ledger_changed_users)));

CREATE OR REPLACE TEMP TABLE ledger_touched_identities AS
SELECT identity FROM ledger_reattributed WHERE identity IS NOT NULL
UNION
SELECT client_identity FROM ledger_reattributed WHERE client_identity IS NOT NULL;

-- 3. The services those identities are known in, from all the evidence
-- that names them; the identities whose services changed. New events
-- stay in scope for the addresses they add to conversations.
CREATE OR REPLACE TEMP VIEW ledger_scope_events AS
SELECT * FROM events
WHERE identity IN (SELECT identity FROM ledger_touched_identities)
   OR client_identity IN (SELECT identity FROM ledger_touched_identities)
   OR loaded_at > (SELECT events FROM ledger_since);
CREATE OR REPLACE TEMP VIEW ledger_scope_users AS
SELECT * FROM twilio_users WHERE identity IN (SELECT identity FROM ledger_touched_identities);
CREATE OR REPLACE TEMP VIEW ledger_scope_participants AS
SELECT * FROM twilio_participants WHERE identity IN (SELECT identity FROM ledger_touched_identities);

CREATE OR REPLACE TEMP TABLE ledger_identities_now AS
SELECT svc, identity FROM ledger_evidence_identities
WHERE identity IN (SELECT identity FROM ledger_touched_identities);
CREATE OR REPLACE TEMP TABLE ledger_new_addresses AS
SELECT conversation_sid, address FROM ledger_evidence_addresses
EXCEPT
SELECT conversation_sid, address FROM ledger_participant_addresses;

CREATE OR REPLACE TEMP TABLE ledger_changed_identities AS
SELECT DISTINCT identity FROM (
    (SELECT svc, identity FROM ledger_identities_now
     EXCEPT
     SELECT svc, identity FROM ledger_known_identities
     WHERE identity IN (SELECT identity FROM ledger_touched_identities))
    UNION ALL
    (SELECT svc, identity FROM ledger_known_identities
     WHERE identity IN (SELECT identity FROM ledger_touched_identities)
     EXCEPT
     SELECT svc, identity FROM ledger_identities_now)
);
DELETE FROM ledger_known_identities WHERE identity IN (SELECT identity FROM ledger_touched_identities);
INSERT INTO ledger_known_identities SELECT svc, identity FROM ledger_identities_now;
INSERT INTO ledger_participant_addresses SELECT conversation_sid, address FROM ledger_new_addresses;

-- 4. The actions to redo, by SID (or, for evidence without one, by event):
-- those of the re-attributed events, and the messages whose Author just
-- became, or stopped being, known in a service or a conversation.
CREATE OR REPLACE TEMP VIEW ledger_scope_events AS
SELECT * FROM ledger_reattributed
UNION ALL BY NAME
SELECT * EXCLUDE (payload) FROM events e
WHERE resource = 'message'
  AND (author IN (SELECT identity FROM ledger_changed_identities)
       OR EXISTS (SELECT 1 FROM ledger_new_addresses a
                  WHERE a.conversation_sid = e.conversation_sid AND a.address = e.author));
CREATE OR REPLACE TEMP VIEW ledger_scope_users AS SELECT * FROM twilio_users WHERE false;
CREATE OR REPLACE TEMP VIEW ledger_scope_participants AS SELECT * FROM twilio_participants WHERE false;
CREATE OR REPLACE TEMP VIEW ledger_scope_messages AS
SELECT * FROM twilio_messages m
WHERE author IN (SELECT identity FROM ledger_changed_identities)
   OR EXISTS (SELECT 1 FROM ledger_new_addresses a
              WHERE a.conversation_sid = m.conversation_sid AND a.address = m.author);

CREATE OR REPLACE TEMP TABLE ledger_redo_sids AS
SELECT DISTINCT sid FROM ledger_evidence WHERE key_alone IS NULL;
CREATE OR REPLACE TEMP TABLE ledger_redo_keys AS
SELECT DISTINCT key_alone AS event_key FROM ledger_evidence WHERE key_alone IS NOT NULL;

-- 5. The scope of the build: every report of those actions, and the
-- token-log lines that are new or of an identity whose services changed.
CREATE OR REPLACE TEMP TABLE ledger_redo_events AS
SELECT * EXCLUDE (payload) FROM events
WHERE action_sid(resource, message_sid, participant_sid, user_sid, conversation_sid)
          IN (SELECT sid FROM ledger_redo_sids)
   OR event_key IN (SELECT event_key FROM ledger_redo_keys);
CREATE OR REPLACE TEMP VIEW ledger_scope_events AS SELECT * FROM ledger_redo_events;
CREATE OR REPLACE TEMP VIEW ledger_scope_users AS
SELECT * FROM twilio_users WHERE sid IN (SELECT sid FROM ledger_redo_sids);
CREATE OR REPLACE TEMP VIEW ledger_scope_participants AS
SELECT * FROM twilio_participants WHERE sid IN (SELECT sid FROM ledger_redo_sids);
CREATE OR REPLACE TEMP VIEW ledger_scope_messages AS
SELECT * FROM twilio_messages WHERE sid IN (SELECT sid FROM ledger_redo_sids);

CREATE OR REPLACE TEMP TABLE ledger_redo_token_identities AS
SELECT identity FROM token_issues WHERE loaded_at > (SELECT tokens FROM ledger_since)
UNION
SELECT identity FROM ledger_changed_identities;
CREATE OR REPLACE TEMP VIEW ledger_scope_tokens AS
SELECT * FROM token_issues WHERE identity IN (SELECT identity FROM ledger_redo_token_identities);

-- 6. The old rows of what is redone, and the subjects they were for.
CREATE OR REPLACE TEMP TABLE ledger_redone AS
SELECT rowid AS row_id, month, subject_kind, subject FROM activity_ledger
WHERE action_hash IN (SELECT action_hash FROM ledger_evidence)
   OR (source = 'token_log' AND subject IN (SELECT identity FROM ledger_redo_token_identities));
DELETE FROM activity_ledger WHERE rowid IN (SELECT row_id FROM ledger_redone);
