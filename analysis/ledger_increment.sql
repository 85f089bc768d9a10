-- Ledger, incremental build: the actions that the evidence loaded since the
-- last build can change, built again, and nothing else. analysis/ledger.go
-- runs it, in the build's transaction, after steps 1 and 2 defined their
-- views, when only events and token-log lines were added since then (see
-- there for what makes it build the whole ledger instead). It ends with the
-- ledger_scope_* views reading the evidence of those actions, which
-- ledger.go then builds (steps 3 and 4) in the place of their old rows.
--
-- What new evidence can change, and so what is redone:
--   * its own actions, with every other report of them (step 3 merges the
--     reports of one action, whatever their source and time);
--   * the service of older events without ChatServiceSid whose conversation
--     or user it names with a service for the first time (or a lesser
--     one): their actions;
--   * the identities a service knows, through new events or those
--     re-attributed ones: every message, any time, whose Author is an
--     identity that became, or stopped being, known in a service (is it a
--     known identity, an address, an unknown author?), and every token-log
--     line of that identity (its service comes from them);
--   * the addresses taking part in a conversation: the messages of that
--     conversation with such an Author;
--   * the monthly summary of every subject-month whose activities were
--     redone (ledger.go).
-- Months are redone only where such an action is, and the chain of
-- knowledge is followed wherever it leads.
--
-- Reading old evidence is what costs: a scattered row of a big table costs
-- the decompression of its whole row group, column by column. So old
-- evidence is first found by its rowid, from narrow columns (a join on one
-- key column, or ledger_evidence_actions, which names the action of every
-- piece of evidence), or its action from the stored ledger, and only the
-- rows found are read whole. Events are stored in the order they were
-- loaded, so new ones, and the reports of recent actions, sit in the last
-- row groups: ledger.go puts the time the last build took events in up to
-- in place of :events_since, a constant DuckDB prunes row groups with
-- (nothing older was added since: it checked).

-- An event's columns that the rules read, and its rowid.
CREATE OR REPLACE TEMP VIEW ledger_event_rows AS
SELECT * EXCLUDE (payload, dedupe, event_id, idempotency_token, input_name, input_line), rowid AS row_id
FROM events;

-- 1. The new events, and what they teach about services, merged into the
-- stored tables.
CREATE OR REPLACE TEMP TABLE ledger_new_events AS
SELECT * FROM ledger_event_rows WHERE loaded_at > :events_since;

CREATE OR REPLACE TEMP VIEW ledger_scope_events AS SELECT * FROM ledger_new_events;
CREATE OR REPLACE TEMP VIEW ledger_scope_conversations AS SELECT * FROM twilio_conversations WHERE false;
CREATE OR REPLACE TEMP VIEW ledger_scope_users AS SELECT *, rowid AS row_id FROM twilio_users WHERE false;
CREATE OR REPLACE TEMP VIEW ledger_scope_participants AS SELECT *, rowid AS row_id FROM twilio_participants WHERE false;
CREATE OR REPLACE TEMP VIEW ledger_scope_messages AS SELECT *, rowid AS row_id FROM twilio_messages WHERE false;

-- A conversation or user named before (its stored service '' when
-- unknown) that new events name with a service for the first time, or a
-- lesser one, changes the service of the older events without one; one
-- never named before changes nothing older, and is stored.
CREATE OR REPLACE TEMP TABLE ledger_changed_conversations AS
SELECT n.conversation_sid, n.service_sid, o.service_sid IS NOT NULL AS named_before
FROM ledger_scope_conversation_services n
LEFT JOIN ledger_conversation_services o ON o.conversation_sid = n.conversation_sid
WHERE o.service_sid IS NULL OR (n.service_sid <> '' AND (o.service_sid = '' OR n.service_sid < o.service_sid));
DELETE FROM ledger_conversation_services
WHERE conversation_sid IN (SELECT conversation_sid FROM ledger_changed_conversations);
INSERT INTO ledger_conversation_services SELECT conversation_sid, service_sid FROM ledger_changed_conversations;

CREATE OR REPLACE TEMP TABLE ledger_changed_users AS
SELECT n.user_sid, n.service_sid, o.service_sid IS NOT NULL AS named_before
FROM ledger_scope_user_services n
LEFT JOIN ledger_user_services o ON o.user_sid = n.user_sid
WHERE o.service_sid IS NULL OR (n.service_sid <> '' AND (o.service_sid = '' OR n.service_sid < o.service_sid));
DELETE FROM ledger_user_services WHERE user_sid IN (SELECT user_sid FROM ledger_changed_users);
INSERT INTO ledger_user_services SELECT user_sid, service_sid FROM ledger_changed_users;

-- From here on the evidence in scope is a few thousand pieces: it is given
-- the stored services of the conversations and users its events name, and
-- only those (ledger_evidence.sql; a REST row carries its own service).
-- Joined to the whole tables, DuckDB built a hash table of every user each
-- time it read the evidence (750,000 at 10M events, up to 0.5 s of CPU a
-- reading).
CREATE OR REPLACE TEMP VIEW ledger_stored_conversation_services AS
SELECT * FROM ledger_conversation_services
WHERE conversation_sid IN (SELECT conversation_sid FROM ledger_scope_events);
CREATE OR REPLACE TEMP VIEW ledger_stored_user_services AS
SELECT * FROM ledger_user_services
WHERE user_sid IN (SELECT user_sid FROM ledger_scope_events);

-- 2. The older events without ChatServiceSid of a conversation or user
-- just learnt: their service may now differ.
CREATE OR REPLACE TEMP TABLE ledger_reattributed AS
SELECT * FROM ledger_event_rows
WHERE row_id IN (
    SELECT e.rowid FROM events e JOIN ledger_changed_conversations c ON c.conversation_sid = e.conversation_sid
    WHERE c.named_before AND e.service_sid IS NULL AND e.loaded_at <= :events_since
    UNION
    SELECT e.rowid FROM events e JOIN ledger_changed_users u ON u.user_sid = e.user_sid
    WHERE u.named_before AND e.service_sid IS NULL AND e.loaded_at <= :events_since);

-- 3. The services each identity is known in. New events can only add to
-- what is stored; a re-attributed event can also take a service away, so
-- the identities those name are counted again from all the evidence that
-- names them.
CREATE OR REPLACE TEMP TABLE ledger_recount_identities AS
SELECT identity FROM ledger_reattributed WHERE identity IS NOT NULL
UNION
SELECT client_identity FROM ledger_reattributed WHERE client_identity IS NOT NULL;

CREATE OR REPLACE TEMP TABLE ledger_naming_events AS
SELECT * FROM ledger_event_rows
WHERE row_id IN (
    SELECT e.rowid FROM events e JOIN ledger_recount_identities t ON t.identity = e.identity
    WHERE e.loaded_at <= :events_since
    UNION
    SELECT e.rowid FROM events e JOIN ledger_recount_identities t ON t.identity = e.client_identity
    WHERE e.loaded_at <= :events_since);
CREATE OR REPLACE TEMP VIEW ledger_scope_events AS
SELECT * FROM ledger_new_events
UNION ALL
SELECT * FROM ledger_naming_events;
CREATE OR REPLACE TEMP VIEW ledger_scope_users AS
SELECT u.*, u.rowid AS row_id FROM twilio_users u JOIN ledger_recount_identities t ON t.identity = u.identity;
CREATE OR REPLACE TEMP VIEW ledger_scope_participants AS
SELECT p.*, p.rowid AS row_id FROM twilio_participants p JOIN ledger_recount_identities t ON t.identity = p.identity;

CREATE OR REPLACE TEMP TABLE ledger_identities_seen AS
SELECT svc, identity FROM ledger_evidence_identities;
CREATE OR REPLACE TEMP TABLE ledger_new_addresses AS
SELECT conversation_sid, address FROM ledger_evidence_addresses
EXCEPT
SELECT conversation_sid, address FROM ledger_participant_addresses;

-- What is stored of the identities in question, and only of those: set
-- against the whole table, each EXCEPT hashed all its rows (750,000 at 10M
-- events).
CREATE OR REPLACE TEMP TABLE ledger_known_before AS
SELECT svc, identity FROM ledger_known_identities
WHERE identity IN (SELECT identity FROM ledger_identities_seen UNION ALL SELECT identity FROM ledger_recount_identities);

CREATE OR REPLACE TEMP TABLE ledger_changed_identities AS
SELECT DISTINCT identity FROM (
    (SELECT svc, identity FROM ledger_identities_seen
     EXCEPT
     SELECT svc, identity FROM ledger_known_before)
    UNION ALL
    (SELECT k.svc, k.identity FROM ledger_known_before k
     JOIN ledger_recount_identities r ON r.identity = k.identity
     EXCEPT
     SELECT svc, identity FROM ledger_identities_seen)
);
DELETE FROM ledger_known_identities WHERE identity IN (SELECT identity FROM ledger_recount_identities);
INSERT INTO ledger_known_identities
SELECT svc, identity FROM ledger_identities_seen
EXCEPT
SELECT svc, identity FROM ledger_known_before
WHERE identity NOT IN (SELECT identity FROM ledger_recount_identities);
INSERT INTO ledger_participant_addresses SELECT conversation_sid, address FROM ledger_new_addresses;

-- 4. The actions to redo: those of the new and re-attributed events, and
-- of the messages whose Author's standing changed. The new events' actions
-- are recorded first, so that step 5 finds their reports too.
CREATE OR REPLACE TEMP VIEW ledger_scope_events AS
SELECT * FROM ledger_new_events
UNION ALL
SELECT * FROM ledger_reattributed;
CREATE OR REPLACE TEMP VIEW ledger_scope_users AS SELECT *, rowid AS row_id FROM twilio_users WHERE false;
CREATE OR REPLACE TEMP VIEW ledger_scope_participants AS SELECT *, rowid AS row_id FROM twilio_participants WHERE false;

INSERT INTO ledger_evidence_actions
SELECT table_name, row_id, action_hash FROM ledger_evidence
WHERE row_id IN (SELECT row_id FROM ledger_new_events);

-- The Authors whose standing changed: an identity in any conversation
-- (conversation_sid NULL), an address in the one it joined.
CREATE OR REPLACE TEMP TABLE ledger_changed_authors AS
SELECT identity AS author, NULL::VARCHAR AS conversation_sid FROM ledger_changed_identities
UNION ALL
SELECT address, conversation_sid FROM ledger_new_addresses WHERE conversation_sid IS NOT NULL;

-- Their messages are found in the stored ledger rather than the evidence:
-- a message added other than from an SDK, by an Author other than system,
-- has one activity there whatever the Author's standing, for the Author
-- of the report its action kept, and only that Author's standing counts.
-- The ledger is stored in subject order within each month (ledger.go), so
-- DuckDB reads only the row groups that may hold those subjects.
CREATE OR REPLACE TEMP TABLE ledger_redo_actions AS
SELECT action_hash FROM ledger_evidence
UNION
SELECT a.action_hash FROM activity_ledger a
JOIN ledger_changed_authors c ON c.author = a.subject
WHERE a.rule IN ('rest.message_author', 'channel.inbound_message')
  AND (c.conversation_sid IS NULL OR c.conversation_sid = a.conversation_sid);

-- A User of the snapshot reports two actions, its creation and its last
-- update, from one row: when one is redone, so is the other.
INSERT INTO ledger_redo_actions
SELECT b.action_hash FROM ledger_evidence_actions a
JOIN ledger_redo_actions r ON r.action_hash = a.action_hash
JOIN ledger_evidence_actions b ON b.table_name = a.table_name AND b.row_id = a.row_id
WHERE a.table_name = 'twilio_users';

-- 5. The scope of the build: every report of those actions, and the
-- token-log lines that are new or of an identity whose services changed.
CREATE OR REPLACE TEMP TABLE ledger_redo_rows AS
SELECT DISTINCT a.table_name, a.row_id FROM ledger_evidence_actions a
JOIN (SELECT DISTINCT action_hash FROM ledger_redo_actions) r ON r.action_hash = a.action_hash;

-- The events among them: the new ones are at hand, and the few older ones
-- are read by rowid. DuckDB skips the row groups and vectors of events that
-- hold none of those only when the join hands the scan their list, which
-- it does for up to dynamic_or_filter_threshold rowids (50 by default;
-- past it, a Bloom filter that still decompresses every row: 4 of the 5
-- seconds this step took at 10M events for 24 old rows). Raised for this
-- one statement: for other joins a long list costs more than it saves.
CREATE OR REPLACE TEMP TABLE ledger_redo_old_events AS
SELECT row_id FROM ledger_redo_rows WHERE table_name = 'events'
EXCEPT
SELECT row_id FROM ledger_new_events;
SET dynamic_or_filter_threshold = 10000;
CREATE OR REPLACE TEMP TABLE ledger_redo_events AS
SELECT * FROM ledger_new_events
WHERE row_id IN (SELECT row_id FROM ledger_redo_rows WHERE table_name = 'events')
UNION ALL
SELECT * FROM ledger_event_rows
WHERE row_id IN (SELECT row_id FROM ledger_redo_old_events);
RESET dynamic_or_filter_threshold;
CREATE OR REPLACE TEMP VIEW ledger_scope_events AS SELECT * FROM ledger_redo_events;
CREATE OR REPLACE TEMP VIEW ledger_scope_users AS
SELECT *, rowid AS row_id FROM twilio_users
WHERE rowid IN (SELECT row_id FROM ledger_redo_rows WHERE table_name = 'twilio_users');
CREATE OR REPLACE TEMP VIEW ledger_scope_participants AS
SELECT *, rowid AS row_id FROM twilio_participants
WHERE rowid IN (SELECT row_id FROM ledger_redo_rows WHERE table_name = 'twilio_participants');
CREATE OR REPLACE TEMP VIEW ledger_scope_messages AS
SELECT *, rowid AS row_id FROM twilio_messages
WHERE rowid IN (SELECT row_id FROM ledger_redo_rows WHERE table_name = 'twilio_messages');
-- Steps 3 and 4 read the evidence in this scope three times, and each
-- reading joins it to the services of every conversation and user: it is
-- worked out once.
CREATE OR REPLACE TEMP TABLE ledger_redo_evidence AS SELECT * FROM ledger_evidence;
CREATE OR REPLACE TEMP VIEW ledger_evidence AS SELECT * FROM ledger_redo_evidence;

CREATE OR REPLACE TEMP TABLE ledger_redo_token_identities AS
SELECT identity FROM token_issues WHERE loaded_at > :tokens_since
UNION
SELECT identity FROM ledger_changed_identities;
CREATE OR REPLACE TEMP VIEW ledger_scope_tokens AS
SELECT t.* FROM token_issues t JOIN ledger_redo_token_identities r ON r.identity = t.identity;

-- 6. The old rows of what is redone, and the subjects they were for. An
-- action's activity takes the time of one of its reports, all of which are
-- in the redo scope: only the months of those are read (the ledger is
-- stored in month order, so DuckDB skips the others' row groups).
CREATE OR REPLACE TEMP TABLE ledger_redo_months AS
SELECT DISTINCT ledger_month(occurred_at) AS month FROM ledger_redo_evidence;
CREATE OR REPLACE TEMP TABLE ledger_redone AS
SELECT a.rowid AS row_id, a.month, a.subject_kind, a.subject FROM activity_ledger a
JOIN (SELECT DISTINCT action_hash FROM ledger_redo_actions) r ON r.action_hash = a.action_hash
WHERE a.month IN (SELECT month FROM ledger_redo_months)
UNION
-- token-log rows, the only ones without an action: DuckDB skips the row
-- groups that have none
SELECT a.rowid, a.month, a.subject_kind, a.subject FROM activity_ledger a
JOIN ledger_redo_token_identities r ON r.identity = a.subject
WHERE a.action_hash IS NULL;
DELETE FROM activity_ledger WHERE rowid IN (SELECT row_id FROM ledger_redone);
