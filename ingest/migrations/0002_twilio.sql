-- REST snapshots pulled by `ingest twilio`: one row per Twilio resource,
-- upserted by SID, with the times the billing rules read and the resource
-- as twilio-go decoded it (raw). Times are UTC.
CREATE TABLE twilio_services (
    sid           VARCHAR PRIMARY KEY,
    friendly_name VARCHAR,
    date_created  TIMESTAMP,
    fetched_at    TIMESTAMP NOT NULL,
    raw           JSON NOT NULL
);

CREATE TABLE twilio_users (
    sid          VARCHAR PRIMARY KEY,
    service_sid  VARCHAR NOT NULL,
    identity     VARCHAR NOT NULL,
    date_created TIMESTAMP,
    date_updated TIMESTAMP,
    fetched_at   TIMESTAMP NOT NULL,
    raw          JSON NOT NULL
);

CREATE TABLE twilio_conversations (
    sid          VARCHAR PRIMARY KEY,
    service_sid  VARCHAR NOT NULL,
    state        VARCHAR,
    date_created TIMESTAMP,
    date_updated TIMESTAMP,
    fetched_at   TIMESTAMP NOT NULL,
    raw          JSON NOT NULL
);

-- A participant is an identity or an address (messaging_binding.address).
CREATE TABLE twilio_participants (
    sid              VARCHAR PRIMARY KEY,
    service_sid      VARCHAR NOT NULL,
    conversation_sid VARCHAR NOT NULL,
    identity         VARCHAR,
    address          VARCHAR,
    date_created     TIMESTAMP,
    date_updated     TIMESTAMP,
    fetched_at       TIMESTAMP NOT NULL,
    raw              JSON NOT NULL
);

CREATE TABLE twilio_messages (
    sid              VARCHAR PRIMARY KEY,
    service_sid      VARCHAR NOT NULL,
    conversation_sid VARCHAR NOT NULL,
    "index"          INTEGER NOT NULL,
    author           VARCHAR,
    participant_sid  VARCHAR,
    date_created     TIMESTAMP,
    date_updated     TIMESTAMP,
    fetched_at       TIMESTAMP NOT NULL,
    raw              JSON NOT NULL
);

-- Twilio's own monthly counts, for `reconcile`.
CREATE TABLE twilio_usage_records (
    account_sid VARCHAR NOT NULL,
    category    VARCHAR NOT NULL,
    start_date  DATE NOT NULL,
    end_date    DATE,
    count       BIGINT,
    count_unit  VARCHAR,
    price       DOUBLE,
    price_unit  VARCHAR,
    fetched_at  TIMESTAMP NOT NULL,
    raw         JSON NOT NULL,
    PRIMARY KEY (account_sid, category, start_date)
);

-- One row per `ingest twilio` run. A run that has no finished_at was
-- interrupted: the next run with the same options resumes it.
CREATE TABLE twilio_runs (
    id          INTEGER PRIMARY KEY,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    full_pull   BOOLEAN NOT NULL,
    services    VARCHAR NOT NULL  -- the --service filter, comma-separated; '' for all
);

-- Work a run has finished, committed with the rows it wrote: a conversation
-- ('conversation', its SID) or a whole listing ('users', a service SID;
-- 'usage', the account SID).
CREATE TABLE twilio_checkpoints (
    kind               VARCHAR NOT NULL,
    key                VARCHAR NOT NULL,
    run_id             INTEGER NOT NULL,
    state              VARCHAR,  -- a conversation's state when it was pulled
    last_message_index INTEGER,  -- the newest message index stored; NULL if none
    completed_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, key)
);
