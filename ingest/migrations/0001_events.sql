-- Live events: Conversations post-event webhooks and Event Streams CloudEvents,
-- one row per distinct event. The columns are the fields the billing rules
-- read, normalised across the two formats; payload keeps the event as it came.
CREATE TABLE events (
    -- md5 of the deduplication basis (see dedupe): a retry maps to the same
    -- key. Unique, enforced by the loader's anti-join rather than a PRIMARY
    -- KEY, whose index costs more than the whole rest of a bulk load.
    event_key         UHUGEINT NOT NULL,
    -- what made the key: 'cloudevent_id', 'idempotency_token' or 'payload'.
    dedupe            VARCHAR NOT NULL,
    format            VARCHAR NOT NULL,  -- 'webhook' or 'cloudevent'
    event_type        VARCHAR NOT NULL,  -- webhook name, e.g. onMessageAdded
    resource          VARCHAR,           -- message, participant, user, conversation, ...
    action            VARCHAR,           -- added, updated, removed; NULL for pre-events
    origin            VARCHAR,           -- Twilio's Source, upper case: SDK, API, SMS, WHATSAPP...
    client_identity   VARCHAR,
    service_sid       VARCHAR,
    conversation_sid  VARCHAR,
    message_sid       VARCHAR,
    participant_sid   VARCHAR,
    user_sid          VARCHAR,
    identity          VARCHAR,
    author            VARCHAR,
    address           VARCHAR,           -- MessagingBinding.Address
    is_online         BOOLEAN,
    event_id          VARCHAR,           -- CloudEvent id
    idempotency_token VARCHAR,
    occurred_at       TIMESTAMP NOT NULL, -- when the action happened, UTC
    received_at       TIMESTAMP,          -- when mauledger or its spool received it, UTC
    loaded_at         TIMESTAMP NOT NULL,
    input_name        VARCHAR NOT NULL,   -- file it was first loaded from
    input_line        BIGINT NOT NULL,
    -- ZSTD where the database file's storage format has it (v1.2.0 on, as
    -- Open creates them); stored uncompressed otherwise.
    payload           JSON NOT NULL USING COMPRESSION zstd
);

-- Per-database settings that must persist, such as the redaction key.
CREATE TABLE settings (
    name  VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
INSERT INTO settings VALUES ('redaction_key', md5(gen_random_uuid()::VARCHAR) || md5(gen_random_uuid()::VARCHAR));
