-- Normalises one batch of staged input lines (temp table stage_lines: line,
-- body) into the columns of the events table, and says
-- why a line is rejected. The loader materialises it once per batch, body
-- included, as the temp table stage_parsed.
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
--     DateUpdated. The text is compared as it is, key order and spacing
--     included: a retry is the same post converted by the same tool, and
--     normalising it would cost a second full parse of every line.
--
-- Activity time (occurred_at): when the event says the action happened,
-- the CloudEvent time, else _received_at (what serve writes), else, for
-- files that carry nothing else, the resource date: DateCreated for an
-- *added* event, DateUpdated for an *updated* or *removed* one. Resource
-- dates can be set by the caller (REST imports), and a removed
-- participant's DateUpdated is its last update, not its removal, so they
-- come last; they are kept (date_created, date_updated) for the rules that
-- compare them with the event's time.
--
-- An Event Streams CloudEvent carries no ChatServiceSid, Source or
-- ClientIdentity (../shared/twilio-events/): those are read from webhooks
-- only, and the ledger finds the service of the rest.

-- A timestamp as sent (an ISO 8601 text, with its offset or Z) as UTC,
-- NULL if it is not one. Its instant counted in microseconds, not a cast
-- from TIMESTAMPTZ to TIMESTAMP: that cast converts to the session's time
-- zone through ICU's calendar, about 15% of a profile of the parse
-- (UTC is the session's zone anyway; see Open). An infinite timestamp has
-- no instant: NULL, so rejected.
CREATE OR REPLACE TEMP MACRO utc_timestamp(text) AS make_timestamp(epoch_us(try_cast(text AS TIMESTAMPTZ)));

CREATE OR REPLACE TEMP VIEW stage_view AS
WITH parsed AS (
    -- Each line is parsed once: try() turns from_json's error on a line
    -- that is not JSON into NULL, and json_valid, a second parse, runs only
    -- on those NULLs (bad JSON, or the JSON literal null).
    SELECT line, body, try(from_json(body, '{
               "specversion": "VARCHAR", "type": "VARCHAR", "id": "VARCHAR", "time": "VARCHAR",
               "_received_at": "VARCHAR", "_idempotency_token": "VARCHAR",
               "EventType": "VARCHAR", "Source": "VARCHAR", "ClientIdentity": "VARCHAR",
               "ChatServiceSid": "VARCHAR", "ConversationSid": "VARCHAR", "MessageSid": "VARCHAR",
               "ParticipantSid": "VARCHAR", "UserSid": "VARCHAR", "Identity": "VARCHAR",
               "Author": "VARCHAR", "MessagingBinding.Address": "VARCHAR",
               "DateCreated": "VARCHAR", "DateUpdated": "VARCHAR", "IsOnline": "VARCHAR",
               "data": {
                   "ConversationSid": "VARCHAR",
                   "MessageSid": "VARCHAR", "ParticipantSid": "VARCHAR", "UserSid": "VARCHAR",
                   "Identity": "VARCHAR", "Author": "VARCHAR",
                   "MessagingBinding": {"Address": "VARCHAR"},
                   "DateCreated": "VARCHAR", "DateUpdated": "VARCHAR", "IsOnline": "VARCHAR"
               }
           }')) AS j
    FROM stage_lines
),
decoded AS (
    -- unnest turns the struct into columns; field references to the
    -- struct of a from_json() would each parse the line again.
    SELECT line, body, CASE WHEN j IS NULL THEN json_valid(body) ELSE true END AS valid,
           CASE left(body, 1) WHEN '{' THEN NULL WHEN '[' THEN 'array' WHEN '"' THEN 'string'
                WHEN 't' THEN 'boolean' WHEN 'f' THEN 'boolean' WHEN 'n' THEN 'null'
                ELSE 'number' END AS not_object,
           unnest(j)
    FROM parsed
),
normalised AS (
    SELECT line, body, valid, not_object, specversion, type, id, time, _received_at,
           specversion IS NOT NULL AS is_cloudevent,
           CASE WHEN specversion IS NULL THEN EventType
                -- com.twilio.conversations.conversation-state.updated -> onConversationStateUpdated
                WHEN type LIKE 'com.twilio.conversations.%' THEN 'on' || list_aggregate(list_transform(
                    string_split(replace(type[length('com.twilio.conversations.') + 1:], '.', '-'), '-'),
                    p -> upper(p[1]) || p[2:]), 'string_agg', '')
                ELSE type END AS event_type,
           -- webhook-only fields: NULL for a CloudEvent
           nullif(upper(Source), '') AS origin,
           nullif(ClientIdentity, '') AS client_identity,
           nullif(ChatServiceSid, '') AS service_sid,
           nullif(coalesce(data.ConversationSid, ConversationSid), '') AS conversation_sid,
           nullif(coalesce(data.MessageSid, MessageSid), '') AS message_sid,
           nullif(coalesce(data.ParticipantSid, ParticipantSid), '') AS participant_sid,
           nullif(coalesce(data.UserSid, UserSid), '') AS user_sid,
           nullif(coalesce(data.Identity, Identity), '') AS identity,
           nullif(coalesce(data.Author, Author), '') AS author,
           nullif(coalesce(data.MessagingBinding.Address, "MessagingBinding.Address"), '') AS address,
           CASE lower(coalesce(data.IsOnline, IsOnline)) WHEN 'true' THEN true WHEN 'false' THEN false END AS is_online,
           coalesce(data.DateCreated, DateCreated) AS date_created,
           coalesce(data.DateUpdated, DateUpdated) AS date_updated,
           nullif(_idempotency_token, '') AS idempotency_token
    FROM decoded
),
timed AS (
    SELECT *,
           regexp_extract(event_type, '^on([A-Za-z]+?)(Added|Updated|Removed)$', ['resource', 'action']) AS ra,
           utc_timestamp(date_created) AS created_ts,
           utc_timestamp(date_updated) AS updated_ts,
           utc_timestamp(time) AS ce_time_ts,
           utc_timestamp(_received_at) AS received_ts
    FROM normalised
)
SELECT line, body,
       CASE
           WHEN NOT valid THEN 'not valid JSON'
           WHEN not_object IS NOT NULL THEN 'not a JSON object (found ' || not_object || ')'
           WHEN NOT is_cloudevent AND coalesce(event_type, '') = '' THEN
               'neither a Conversations webhook (no EventType) nor a CloudEvent (no specversion)'
           WHEN is_cloudevent AND coalesce(id, '') = '' THEN 'CloudEvent without id'
           WHEN is_cloudevent AND coalesce(type, '') = '' THEN 'CloudEvent without type'
           WHEN date_created IS NOT NULL AND created_ts IS NULL THEN 'DateCreated is not a timestamp: ' || date_created
           WHEN date_updated IS NOT NULL AND updated_ts IS NULL THEN 'DateUpdated is not a timestamp: ' || date_updated
           WHEN time IS NOT NULL AND ce_time_ts IS NULL THEN 'time is not a timestamp: ' || time
           WHEN _received_at IS NOT NULL AND received_ts IS NULL THEN '_received_at is not a timestamp: ' || _received_at
           WHEN activity_at IS NULL THEN 'no activity time: needs a CloudEvent time, _received_at, or DateCreated (added) / DateUpdated (updated, removed)'
       END AS rejected,
       is_cloudevent AND type NOT LIKE 'com.twilio.conversations.%' AS foreign_type,
       md5_number(CASE
           WHEN is_cloudevent THEN 'cloudevent_id:' || id
           WHEN idempotency_token IS NOT NULL THEN 'idempotency_token:' || idempotency_token
           -- RetryCount and mauledger's envelope fields (which start with
           -- "_") are cut out of the text: a retry is the same post again.
           ELSE 'payload:' || regexp_replace(body, '"(RetryCount|_[A-Za-z_]+)"\s*:\s*"[^"]*"', '', 'g')
       END) AS event_key,
       CASE WHEN is_cloudevent THEN 'cloudevent_id'
            WHEN idempotency_token IS NOT NULL THEN 'idempotency_token'
            ELSE 'payload' END AS dedupe,
       CASE WHEN is_cloudevent THEN 'cloudevent' ELSE 'webhook' END AS format,
       event_type,
       nullif(lower(regexp_replace(ra.resource, '([a-z])([A-Z])', '\1_\2', 'g')), '') AS resource,
       nullif(lower(ra.action), '') AS action,
       origin, client_identity, service_sid, conversation_sid, message_sid, participant_sid,
       user_sid, identity, author, address, is_online,
       CASE WHEN is_cloudevent THEN id END AS event_id,
       idempotency_token,
       activity_at AS occurred_at,
       received_ts AS received_at,
       ce_time_ts AS event_time,
       created_ts AS date_created,
       updated_ts AS date_updated
FROM (
    SELECT *,
           coalesce(ce_time_ts, received_ts,
                    CASE ra.action
                        WHEN 'Added' THEN created_ts
                        WHEN 'Updated' THEN updated_ts
                        WHEN 'Removed' THEN updated_ts
                    END) AS activity_at
    FROM timed
);
