-- Normalises one batch of staged input lines (temp table stage_lines: line,
-- body) into the columns of the events table, and says why a line is rejected.
--
-- Two formats, told apart per line:
--   * a Conversations post-event webhook: the form fields Twilio posts, as a
--     flat JSON object of strings (EventType, Source, ClientIdentity, ...,
--     "MessagingBinding.Address" with the dot in the key);
--   * an Event Streams CloudEvent: {"specversion", "type":
--     "com.twilio.conversations.<resource>.<action>", "id", "time", "data":
--     {the same PascalCase fields, MessagingBinding as a nested object}}.
-- Either may carry mauledger's own envelope fields, which start with "_":
-- _received_at (when it was received) and _idempotency_token (Twilio's
-- I-Twilio-Idempotency-Token header).
--
-- Deduplication key, in order of preference:
--   * a CloudEvent's id (Event Streams batches share one idempotency token,
--     so the token cannot tell their events apart);
--   * a webhook's idempotency token;
--   * else the payload text with RetryCount and the envelope set aside: a
--     webhook retry is the same form post again, differing only in
--     RetryCount, while two updates of one resource differ at least in
--     DateUpdated. (Keys are not re-sorted: that costs a second full parse of
--     every line, and a retry's fields come in the order Twilio posts them.)
--
-- Activity time: DateCreated for an *added* event, DateUpdated for an
-- *updated* or *removed* one, else the CloudEvent time, else _received_at.
CREATE OR REPLACE TEMP TABLE stage_parsed AS
WITH checked AS (
    SELECT line, body,
           CASE WHEN json_valid(body) THEN json_type(body) END AS json_kind
    FROM stage_lines
    WHERE trim(body) <> ''
),
decoded AS (
    SELECT line, body, json_kind,
           CASE WHEN json_kind = 'OBJECT' THEN from_json(body, '{
               "specversion": "VARCHAR", "type": "VARCHAR", "id": "VARCHAR", "time": "VARCHAR",
               "_received_at": "VARCHAR", "_idempotency_token": "VARCHAR",
               "EventType": "VARCHAR", "Source": "VARCHAR", "ClientIdentity": "VARCHAR",
               "ChatServiceSid": "VARCHAR", "ConversationSid": "VARCHAR", "MessageSid": "VARCHAR",
               "ParticipantSid": "VARCHAR", "UserSid": "VARCHAR", "Identity": "VARCHAR",
               "Author": "VARCHAR", "MessagingBinding.Address": "VARCHAR",
               "DateCreated": "VARCHAR", "DateUpdated": "VARCHAR", "IsOnline": "VARCHAR",
               "data": {
                   "Source": "VARCHAR", "ClientIdentity": "VARCHAR",
                   "ChatServiceSid": "VARCHAR", "ServiceSid": "VARCHAR", "ConversationSid": "VARCHAR",
                   "MessageSid": "VARCHAR", "ParticipantSid": "VARCHAR", "UserSid": "VARCHAR",
                   "Identity": "VARCHAR", "Author": "VARCHAR",
                   "MessagingBinding": {"Address": "VARCHAR"},
                   "DateCreated": "VARCHAR", "DateUpdated": "VARCHAR", "IsOnline": "VARCHAR"
               }
           }') END AS j
    FROM checked
),
normalised AS (
    SELECT line, body, json_kind, j,
           j.specversion IS NOT NULL AS is_cloudevent,
           CASE WHEN j.specversion IS NOT NULL AND regexp_matches(j.type, '^com\.twilio\.conversations\.([a-z-]+)\.([a-z]+)$') THEN
               -- com.twilio.conversations.conversation-state.updated -> onConversationStateUpdated
               'on' || list_aggregate(list_transform(
                   string_split(regexp_extract(j.type, '^com\.twilio\.conversations\.([a-z-]+)\.([a-z]+)$', 1), '-')
                       || [regexp_extract(j.type, '^com\.twilio\.conversations\.([a-z-]+)\.([a-z]+)$', 2)],
                   p -> upper(p[1]) || p[2:]), 'string_agg', '')
           WHEN j.specversion IS NOT NULL THEN j.type
           ELSE j.EventType END AS event_type,
           nullif(upper(coalesce(j.data.Source, j.Source)), '') AS origin,
           nullif(coalesce(j.data.ClientIdentity, j.ClientIdentity), '') AS client_identity,
           nullif(coalesce(j.data.ChatServiceSid, j.data.ServiceSid, j.ChatServiceSid), '') AS service_sid,
           nullif(coalesce(j.data.ConversationSid, j.ConversationSid), '') AS conversation_sid,
           nullif(coalesce(j.data.MessageSid, j.MessageSid), '') AS message_sid,
           nullif(coalesce(j.data.ParticipantSid, j.ParticipantSid), '') AS participant_sid,
           nullif(coalesce(j.data.UserSid, j.UserSid), '') AS user_sid,
           nullif(coalesce(j.data.Identity, j.Identity), '') AS identity,
           nullif(coalesce(j.data.Author, j.Author), '') AS author,
           nullif(coalesce(j.data.MessagingBinding.Address, j."MessagingBinding.Address"), '') AS address,
           CASE lower(coalesce(j.data.IsOnline, j.IsOnline)) WHEN 'true' THEN true WHEN 'false' THEN false END AS is_online,
           coalesce(j.data.DateCreated, j.DateCreated) AS date_created,
           coalesce(j.data.DateUpdated, j.DateUpdated) AS date_updated,
           nullif(j._idempotency_token, '') AS idempotency_token
    FROM decoded
),
timed AS (
    SELECT *,
           regexp_extract(event_type, '^on([A-Za-z]+?)(Added|Updated|Removed)$', ['resource', 'action']) AS ra,
           try_cast(date_created AS TIMESTAMPTZ)::TIMESTAMP AS created_ts,
           try_cast(date_updated AS TIMESTAMPTZ)::TIMESTAMP AS updated_ts,
           try_cast(j.time AS TIMESTAMPTZ)::TIMESTAMP AS ce_time_ts,
           try_cast(j._received_at AS TIMESTAMPTZ)::TIMESTAMP AS received_ts
    FROM normalised
)
SELECT line, body,
       CASE
           WHEN json_kind IS NULL THEN 'not valid JSON'
           WHEN json_kind <> 'OBJECT' THEN 'not a JSON object (found ' || lower(json_kind) || ')'
           WHEN NOT is_cloudevent AND coalesce(event_type, '') = '' THEN
               'neither a Conversations webhook (no EventType) nor a CloudEvent (no specversion)'
           WHEN is_cloudevent AND coalesce(j.id, '') = '' THEN 'CloudEvent without id'
           WHEN is_cloudevent AND coalesce(j.type, '') = '' THEN 'CloudEvent without type'
           WHEN date_created IS NOT NULL AND created_ts IS NULL THEN 'DateCreated is not a timestamp: ' || date_created
           WHEN date_updated IS NOT NULL AND updated_ts IS NULL THEN 'DateUpdated is not a timestamp: ' || date_updated
           WHEN j.time IS NOT NULL AND ce_time_ts IS NULL THEN 'time is not a timestamp: ' || j.time
           WHEN j._received_at IS NOT NULL AND received_ts IS NULL THEN '_received_at is not a timestamp: ' || j._received_at
           WHEN activity_at IS NULL THEN 'no activity time: needs DateCreated (added), DateUpdated (updated, removed), a CloudEvent time or _received_at'
       END AS rejected,
       is_cloudevent AND j.type NOT LIKE 'com.twilio.conversations.%' AS foreign_type,
       CASE WHEN json_kind = 'OBJECT' THEN md5_number(CASE
           WHEN is_cloudevent THEN 'cloudevent_id:' || j.id
           WHEN idempotency_token IS NOT NULL THEN 'idempotency_token:' || idempotency_token
           -- RetryCount and mauledger's envelope fields (which start with
           -- "_") are cut out of the text: a retry is the same post again.
           ELSE 'payload:' || regexp_replace(body, '\s*,?\s*"(RetryCount|_[A-Za-z_]+)"\s*:\s*"[^"]*"', '', 'g')
       END) END AS event_key,
       CASE WHEN is_cloudevent THEN 'cloudevent_id'
            WHEN idempotency_token IS NOT NULL THEN 'idempotency_token'
            ELSE 'payload' END AS dedupe,
       CASE WHEN is_cloudevent THEN 'cloudevent' ELSE 'webhook' END AS format,
       event_type,
       nullif(lower(regexp_replace(ra.resource, '([a-z])([A-Z])', '\1_\2', 'g')), '') AS resource,
       nullif(lower(ra.action), '') AS action,
       origin, client_identity, service_sid, conversation_sid, message_sid, participant_sid,
       user_sid, identity, author, address, is_online,
       CASE WHEN is_cloudevent THEN j.id END AS event_id,
       idempotency_token,
       activity_at AS occurred_at,
       received_ts AS received_at
FROM (
    SELECT *,
           coalesce(CASE lower(regexp_extract(event_type, '(Added|Updated|Removed)$'))
                        WHEN 'added' THEN created_ts
                        WHEN 'updated' THEN updated_ts
                        WHEN 'removed' THEN updated_ts
                    END, ce_time_ts, received_ts) AS activity_at
    FROM timed
);
