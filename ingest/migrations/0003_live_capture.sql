-- Live capture: how far `ingest events --spool` has loaded each segment of
-- serve's spool, and the token-server logs loaded by `ingest tokens`.
-- (Numbered 0003: 0002 is the Twilio REST snapshot's.)

-- One row per spool segment file. The loader reads on from loaded_bytes,
-- so a segment serve is still writing is loaded a piece at a time.
CREATE TABLE spool_progress (
    segment      VARCHAR PRIMARY KEY, -- the segment's file name (its path may change)
    loaded_bytes BIGINT NOT NULL,     -- bytes from the start that are loaded, or skipped as torn
    loaded_lines BIGINT NOT NULL,     -- the lines in them, so the next lines are numbered right
    torn_bytes   BIGINT NOT NULL,     -- a torn last line skipped (a crash cut its write short)
    updated_at   TIMESTAMP NOT NULL
);

-- Access tokens the customer's token server issued: likely, not certain,
-- evidence that the identity connected with an SDK (inferred sdk.connect).
-- One row per (service, identity, time): a line logged twice loads once.
CREATE TABLE token_issues (
    service_sid VARCHAR,              -- NULL when the log does not say
    identity    VARCHAR NOT NULL,
    issued_at   TIMESTAMP NOT NULL,   -- UTC
    loaded_at   TIMESTAMP NOT NULL,
    input_name  VARCHAR NOT NULL,     -- file it was first loaded from
    input_line  BIGINT NOT NULL
);
