-- Ledger maintenance proportional to what changed (analysis/ledger.go):
-- an ingest rebuilds only the actions its new evidence can affect, not the
-- whole ledger. For that the build keeps, as derived data beside the
-- ledger, what it knows across all the evidence, which it used to work out
-- afresh on every build:
--   * the service of each conversation and of each user (ledger step 1);
--   * the identities each service knows and the addresses taking part in
--     each conversation (step 2): what a message's author is checked against.
-- Each activity names the action it comes from (action_hash), so that the
-- rows of a rebuilt action can be replaced; ledger_evidence_actions names
-- the action each piece of evidence reports, so that the other reports of
-- an action are found without reading all the evidence; and ledger_state
-- records how far the evidence was taken in.
ALTER TABLE activity_ledger ADD COLUMN action_hash UBIGINT; -- NULL for token-log rows

CREATE TABLE ledger_evidence_actions (
    table_name  VARCHAR NOT NULL,  -- events, twilio_users, twilio_participants, twilio_messages
    row_id      BIGINT NOT NULL,   -- the evidence's rowid there (a User of the snapshot reports two actions)
    action_hash UBIGINT NOT NULL
);

CREATE TABLE ledger_conversation_services (
    conversation_sid VARCHAR NOT NULL,
    service_sid      VARCHAR NOT NULL  -- the least of the services evidence names for it
);

CREATE TABLE ledger_user_services (
    user_sid    VARCHAR NOT NULL,
    service_sid VARCHAR NOT NULL
);

CREATE TABLE ledger_known_identities (
    svc      VARCHAR NOT NULL,         -- '' when no evidence tells the service
    identity VARCHAR NOT NULL
);

CREATE TABLE ledger_participant_addresses (
    conversation_sid VARCHAR,
    address          VARCHAR NOT NULL
);

-- How far the evidence was taken in: events and token-log lines loaded
-- up to loaded_to (inclusive), that many of each. The fingerprint now
-- covers only the rules and the REST snapshot.
ALTER TABLE ledger_state ADD COLUMN events BIGINT;
ALTER TABLE ledger_state ADD COLUMN events_loaded_to TIMESTAMP;
ALTER TABLE ledger_state ADD COLUMN tokens BIGINT;
ALTER TABLE ledger_state ADD COLUMN tokens_loaded_to TIMESTAMP;

DELETE FROM ledger_state;
