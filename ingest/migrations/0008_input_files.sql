-- The files `ingest events` and `close` loaded, so that a rerun over a
-- growing archive (a Kinesis Data Firehose bucket synced to a folder) reads
-- only the files it has not loaded yet. A file is known by its path, size
-- and SHA-256: one whose bytes changed is loaded again (event deduplication
-- makes that safe) and its row replaced. A row is written only after the
-- file's events are stored, so an interrupted load is redone. Standard
-- input and pipes are never remembered.
-- (Numbered 0008: 0007 belongs to another change.)
CREATE TABLE input_files (
    path      VARCHAR PRIMARY KEY, -- absolute path of the file
    size      BIGINT NOT NULL,     -- bytes as stored (compressed, for gzip)
    sha256    VARCHAR NOT NULL,    -- hex SHA-256 of those bytes
    events    BIGINT NOT NULL,     -- what its load read, stored and rejected
    loaded    BIGINT NOT NULL,
    rejected  BIGINT NOT NULL,
    loaded_at TIMESTAMP NOT NULL
);
