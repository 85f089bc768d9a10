-- Ledger, step 1 of 4: what tells an activity's Conversation Service.
--
-- Webhooks name their service (ChatServiceSid); Event Streams CloudEvents
-- never do (../shared/twilio-events/), nor do token-log lines as a rule. The
-- service of such evidence is found, in this order, from:
--   1. its conversation: any event that names the conversation with its
--      service, or the REST snapshot (twilio_conversations);
--   2. its user, by UserSid: the REST snapshot (twilio_users), or any event
--      that names the user with its service;
--   3. the account's only service, when `ingest twilio` listed exactly one
--      (webhooks alone cannot tell that an account has no other service).
-- Whatever is still unknown gets the service '' and is reported as
-- "service unknown", which `ingest twilio` fixes.
--
-- The first two are stored (ledger_conversation_services,
-- ledger_user_services: one row per conversation or user any evidence
-- names, its service '' when none tells it, so that an incremental build
-- knows that no older evidence names a conversation or user it has never
-- stored, and has none to attribute again). The views below
-- say what the evidence in scope (analysis/ledger.go) teaches: a full
-- build stores them over all the evidence (ledger_full.sql), an
-- incremental one merges in what new events teach (ledger_increment.sql).
-- The third is small and worked out on every build.
CREATE OR REPLACE TEMP VIEW ledger_scope_conversation_services AS
SELECT conversation_sid, coalesce(min(service_sid), '') AS service_sid
FROM (
    SELECT conversation_sid, service_sid FROM ledger_scope_events
    WHERE conversation_sid IS NOT NULL
    UNION ALL
    SELECT sid, service_sid FROM ledger_scope_conversations
)
GROUP BY conversation_sid;

CREATE OR REPLACE TEMP VIEW ledger_scope_user_services AS
SELECT user_sid, coalesce(min(service_sid), '') AS service_sid
FROM (
    SELECT sid AS user_sid, service_sid FROM ledger_scope_users
    UNION ALL
    SELECT user_sid, service_sid FROM ledger_scope_events
    WHERE user_sid IS NOT NULL
)
GROUP BY user_sid;

-- One row when the account has exactly one service; none else.
CREATE OR REPLACE TEMP TABLE ledger_only_service AS
SELECT min(sid) AS service_sid FROM twilio_services HAVING count(*) = 1;
