-- Ledger, full build: the stored knowledge of the whole evidence, replaced.
-- Runs with every ledger_scope_* view reading all of its table, after
-- steps 1 and 2 defined their views; ledger.go then stores the rows of
-- ledger.sql in the emptied activity_ledger.
DELETE FROM ledger_conversation_services;
INSERT INTO ledger_conversation_services SELECT conversation_sid, service_sid FROM ledger_scope_conversation_services;

DELETE FROM ledger_user_services;
INSERT INTO ledger_user_services SELECT user_sid, service_sid FROM ledger_scope_user_services;

DELETE FROM ledger_known_identities;
INSERT INTO ledger_known_identities SELECT svc, identity FROM ledger_evidence_identities;

DELETE FROM ledger_participant_addresses;
INSERT INTO ledger_participant_addresses SELECT conversation_sid, address FROM ledger_evidence_addresses;

DELETE FROM ledger_evidence_actions;
INSERT INTO ledger_evidence_actions SELECT table_name, row_id, action_hash FROM ledger_evidence;

DELETE FROM activity_ledger;
