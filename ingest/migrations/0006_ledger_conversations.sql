-- The activity ledger names the conversation each activity happened in, and
-- its summary per subject and month counts a subject's conversations and
-- its busiest few minutes of writing, so that identity hygiene can tell an
-- identity that many people share: one that takes part in far more
-- conversations than anyone, or writes in many at once (analysis/
-- subject_months.sql and hygiene_shared.sql). Both tables are derived data:
-- the columns are filled when the ledger is next rebuilt, by the next
-- ingest or report.
ALTER TABLE activity_ledger ADD COLUMN conversation_sid VARCHAR; -- NULL when the activity is in none (a User's own update, a token issue)

ALTER TABLE ledger_subject_months ADD COLUMN conversations BIGINT;    -- distinct conversations of its activities
ALTER TABLE ledger_subject_months ADD COLUMN at_once BIGINT;          -- most conversations it wrote in within one window
ALTER TABLE ledger_subject_months ADD COLUMN at_once_from TIMESTAMP;  -- that window, NULL if it wrote nothing
ALTER TABLE ledger_subject_months ADD COLUMN at_once_to TIMESTAMP;

DELETE FROM ledger_state;
