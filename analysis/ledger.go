package analysis

import (
	"context"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mauledger/mauledger/internal/duckmem"
)

// The activity ledger is stored: building it reads all the evidence (about
// 3.5 seconds per million events), so it is built when the evidence
// changes rather than once per report, and after the first build only
// what new evidence changes is built again. activity_ledger holds the rows
// of ledger.sql, ledger_subject_months their billable part per subject and
// month (subject_months.sql), the ledger_* knowledge tables what the build
// learnt across all the evidence (services, known identities, participant
// addresses), and ledger_state what the build took in. All are derived
// data: Refresh can always rebuild them, and nothing else writes them.
//
// A build is whole (ledger_full.sql) when:
//   - there is no stored ledger, or it was built by other rules;
//   - the REST snapshot changed (ingest twilio replaces its rows in place,
//     and a service, user or conversation learnt from it can change any
//     month);
//   - the events or token-log lines it took in are no longer all there
//     (nothing deletes them; a clock set back could hide new ones);
//   - more than 10,000 events are new and they are more than a quarter of
//     those it took in: a whole build is then about as quick.
// Otherwise it is incremental (ledger_increment.sql): the actions new
// events and token-log lines can change, through whatever knowledge they
// change, and the summary of the subject-months those actions are in.

// rulesVersion changes whenever the rules or the summary do (the rule bits
// follow the order of Rules), or the order the ledger is stored in, so a
// newer mauledger rebuilds a ledger that an older one stored.
var rulesVersion = func() string {
	sum := sha256.Sum256([]byte(strings.Join(ledgerDefinitions, "") + ledgerFullSQL + ledgerIncrementSQL +
		ledgerActionsSQL + ledgerSQL + ledgerOrder + subjectMonthsSQL + strings.Join(Rules, ",")))
	return hex.EncodeToString(sum[:8])
}()

var (
	//go:embed ledger_services.sql
	ledgerServicesSQL string
	//go:embed ledger_evidence.sql
	ledgerEvidenceSQL string
	//go:embed ledger_full.sql
	ledgerFullSQL string
	//go:embed ledger_increment.sql
	ledgerIncrementSQL string
	//go:embed ledger_actions.sql
	ledgerActionsSQL string

	// ledgerDefinitions are steps 1 and 2 of a build: views over the
	// evidence in scope, defined on the building connection.
	ledgerDefinitions = []string{ledgerServicesSQL, ledgerEvidenceSQL}
)

// scopeAll makes a build read all the evidence.
var scopeAll = []string{
	`CREATE OR REPLACE TEMP VIEW ledger_scope_events AS SELECT *, rowid AS row_id FROM events`,
	`CREATE OR REPLACE TEMP VIEW ledger_scope_conversations AS SELECT * FROM twilio_conversations`,
	`CREATE OR REPLACE TEMP VIEW ledger_scope_users AS SELECT *, rowid AS row_id FROM twilio_users`,
	`CREATE OR REPLACE TEMP VIEW ledger_scope_participants AS SELECT *, rowid AS row_id FROM twilio_participants`,
	`CREATE OR REPLACE TEMP VIEW ledger_scope_messages AS SELECT *, rowid AS row_id FROM twilio_messages`,
	`CREATE OR REPLACE TEMP VIEW ledger_scope_tokens AS SELECT * FROM token_issues`,
	`CREATE OR REPLACE TEMP VIEW ledger_scope_activity AS SELECT * FROM activity_ledger`,
	`CREATE OR REPLACE TEMP VIEW ledger_stored_conversation_services AS SELECT * FROM ledger_conversation_services`,
	`CREATE OR REPLACE TEMP VIEW ledger_stored_user_services AS SELECT * FROM ledger_user_services`,
}

// resummarise replaces, after an incremental build, the summary of the
// subject-months whose activities were redone (ledger_redone, the old
// rows; ledger_rebuilt, the new ones) by one of all their activities,
// which touchedActivitySQL reads month by month.
var resummarise = []string{
	`CREATE OR REPLACE TEMP TABLE ledger_touched_subjects AS
	SELECT DISTINCT month, subject_kind, subject FROM (
	    SELECT month, subject_kind, subject FROM ledger_redone
	    UNION ALL
	    SELECT month, subject_kind, subject FROM ledger_rebuilt)`,
	`DELETE FROM ledger_subject_months s WHERE EXISTS (
	    SELECT 1 FROM ledger_touched_subjects t
	    WHERE t.month = s.month AND t.subject_kind = s.subject_kind AND t.subject = s.subject)`,
	`CREATE OR REPLACE TEMP TABLE ledger_touched_activity AS FROM activity_ledger LIMIT 0`,
	`CREATE OR REPLACE TEMP VIEW ledger_scope_activity AS SELECT * FROM ledger_touched_activity`,
}

// ledgerOrder is the order a whole build stores the activity ledger in
// (an incremental build appends its rows, in that order too). Reading the
// activities of a few subjects of one month then costs DuckDB only the row
// groups of that month, and within it of those subjects' range: the
// statement below, run for each month, since the join tells the scan of
// activity_ledger only the least and greatest month and subject it wants
// (at 10M events, 0.9 s of a 3.6 s incremental build in one statement over
// all months, 0.3 s month by month). ledger_increment.sql finds the
// messages of a few Authors by their activities the same way.
const ledgerOrder = ` ORDER BY month, subject_kind, subject`

const touchedActivitySQL = `INSERT INTO ledger_touched_activity
	SELECT a.* FROM activity_ledger a
	JOIN ledger_touched_subjects t ON t.subject = a.subject AND t.month = a.month AND t.subject_kind = a.subject_kind
	WHERE t.month = ?`

// defineRuleMacros defines, on conn, the billing rules as bits:
// rule_bit(rule) and rule_list(bits), from Rules.
func defineRuleMacros(ctx context.Context, conn *sql.Conn) error {
	for _, q := range []string{
		`CREATE OR REPLACE TEMP MACRO billing_rules() AS ['` + strings.Join(Rules, `', '`) + `']`,
		`CREATE OR REPLACE TEMP MACRO rule_bit(r) AS 1::UINTEGER << (list_position(billing_rules(), r) - 1)`,
		`CREATE OR REPLACE TEMP MACRO rule_list(bits) AS list_filter(billing_rules(), (r, i) -> (bits >> (i - 1)) & 1 = 1)`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("define the rule bits: %w", err)
		}
	}
	return nil
}

// ruleBit is rule's bit in rule_bits, as the macro rule_bit gives it.
func ruleBit(rule string) uint32 {
	i := slices.Index(Rules, rule)
	if i < 0 {
		panic("no billing rule " + rule)
	}
	return 1 << i
}

// snapshotFingerprintSQL tells whether the rules or the REST snapshot
// changed: snapshot rows are replaced in place, with a new fetched_at.
// Services and conversations are evidence too: they tell the service of
// Event Streams events.
const snapshotFingerprintSQL = `SELECT concat_ws('/', ?,
    (SELECT count(*) || '@' || coalesce(max(fetched_at)::VARCHAR, '') FROM twilio_services),
    (SELECT count(*) || '@' || coalesce(max(fetched_at)::VARCHAR, '') FROM twilio_conversations),
    (SELECT count(*) || '@' || coalesce(max(fetched_at)::VARCHAR, '') FROM twilio_users),
    (SELECT count(*) || '@' || coalesce(max(fetched_at)::VARCHAR, '') FROM twilio_participants),
    (SELECT count(*) || '@' || coalesce(max(fetched_at)::VARCHAR, '') FROM twilio_messages))`

// Events and token-log lines are only ever added: the ledger took in
// those loaded up to a time, and counts them.
const intakeSQL = `SELECT
    (SELECT count(*) FROM events), (SELECT max(loaded_at) FROM events),
    (SELECT count(*) FROM events WHERE loaded_at <= ?),
    (SELECT count(*) FROM token_issues), (SELECT max(loaded_at) FROM token_issues),
    (SELECT count(*) FROM token_issues WHERE loaded_at <= ?)`

// wholeBuildEvents: when more than this many events are new, and they are
// more than a quarter of those the ledger took in, it is built whole.
const wholeBuildEvents = 10_000

// LedgerStatus tells what Refresh did.
type LedgerStatus struct {
	Rows    int64         // rows of the stored ledger
	Rebuilt bool          // false: the stored ledger was up to date
	Whole   bool          // the whole ledger was built; else only what new evidence changes
	Redone  int64         // activities built again by an incremental build
	Took    time.Duration // how long the build took
}

// ledgerState is the row of ledger_state: what the stored ledger was built
// from.
type ledgerState struct {
	fingerprint        string
	rows               int64
	events, tokens     int64
	eventsTo, tokensTo sql.NullTime
	found              bool
}

// Refresh brings the stored activity ledger up to date with the evidence in
// db, in one transaction, and does nothing when it already is. Every ingest
// ends with it, so that reports only read.
func Refresh(ctx context.Context, db *sql.DB) (LedgerStatus, error) {
	return refresh(ctx, db, false)
}

// refresh is Refresh; whole builds the whole ledger even when an
// incremental build would do (tests compare the two).
func refresh(ctx context.Context, db *sql.DB, whole bool) (LedgerStatus, error) {
	var st LedgerStatus
	conn, err := db.Conn(ctx)
	if err != nil {
		return st, err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return st, err
	}
	defer tx.Rollback()
	var fingerprint string
	if err := tx.QueryRowContext(ctx, snapshotFingerprintSQL, rulesVersion).Scan(&fingerprint); err != nil {
		return st, fmt.Errorf("check the activity ledger: %w", err)
	}
	var old ledgerState
	err = tx.QueryRowContext(ctx, `SELECT fingerprint, rows, events, events_loaded_to, tokens, tokens_loaded_to FROM ledger_state`).
		Scan(&old.fingerprint, &old.rows, &old.events, &old.eventsTo, &old.tokens, &old.tokensTo)
	if err != nil && err != sql.ErrNoRows {
		return st, fmt.Errorf("check the activity ledger: %w", err)
	}
	old.found = err == nil
	var events, eventsBefore, tokens, tokensBefore int64
	var eventsTo, tokensTo sql.NullTime
	if err := tx.QueryRowContext(ctx, intakeSQL, old.eventsTo, old.tokensTo).
		Scan(&events, &eventsTo, &eventsBefore, &tokens, &tokensTo, &tokensBefore); err != nil {
		return st, fmt.Errorf("check the activity ledger: %w", err)
	}
	st.Rows = old.rows
	current := old.found && old.fingerprint == fingerprint && eventsBefore == old.events && tokensBefore == old.tokens
	if current && events == old.events && tokens == old.tokens && !whole {
		return st, tx.Commit()
	}
	newEvents := events - old.events
	st.Whole = whole || !current || (newEvents > wholeBuildEvents && newEvents > old.events/4)

	start := time.Now()
	restore, err := duckmem.Limit(ctx, conn, duckmem.Budget)
	if err != nil {
		return st, err
	}
	defer restore()
	// ledger_increment.sql raises it for one statement: put back here too
	// in case the build failed in between (the connection is pooled).
	defer conn.ExecContext(context.WithoutCancel(ctx), `RESET dynamic_or_filter_threshold`)
	if err := defineRuleMacros(ctx, conn); err != nil {
		return st, err
	}
	if st.Whole {
		err = buildWhole(ctx, tx, &st)
	} else {
		err = buildIncrement(ctx, tx, &st, old)
	}
	if err != nil {
		return st, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM ledger_state`); err != nil {
		return st, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_state (fingerprint, built_at, rows, events, events_loaded_to, tokens, tokens_loaded_to)
		VALUES (?, now()::TIMESTAMP, ?, ?, ?, ?, ?)`, fingerprint, st.Rows, events, eventsTo, tokens, tokensTo); err != nil {
		return st, err
	}
	if err := tx.Commit(); err != nil {
		return st, fmt.Errorf("store the activity ledger: %w", err)
	}
	if st.Whole {
		// Written out now, under the memory limit: the checkpoint DuckDB
		// would otherwise make when the database closes took 8 GB for a
		// 5M-row ledger.
		if _, err := conn.ExecContext(ctx, `CHECKPOINT`); err != nil {
			return st, fmt.Errorf("store the activity ledger: %w", err)
		}
	}
	st.Rebuilt, st.Took = true, time.Since(start)
	return st, nil
}

// buildWhole builds the ledger, its knowledge and its summary from all
// the evidence.
func buildWhole(ctx context.Context, tx *sql.Tx, st *LedgerStatus) error {
	if err := execAll(ctx, tx, "build the activity ledger", scopeAll, ledgerDefinitions, []string{ledgerFullSQL, ledgerActionsSQL}); err != nil {
		return err
	}
	var err error
	if st.Rows, err = execCount(ctx, tx, `INSERT INTO activity_ledger `+ledgerSQL+ledgerOrder); err != nil {
		return fmt.Errorf("build the activity ledger: %w", err)
	}
	return execAll(ctx, tx, "summarise the activity ledger", []string{`DELETE FROM ledger_subject_months`, subjectMonthsSQL})
}

// buildIncrement builds again what the evidence loaded since the last build
// can change (ledger_increment.sql), and the summary of its subject-months.
func buildIncrement(ctx context.Context, tx *sql.Tx, st *LedgerStatus, old ledgerState) error {
	increment := strings.NewReplacer(":events_since", timestampLiteral(old.eventsTo),
		":tokens_since", timestampLiteral(old.tokensTo)).Replace(ledgerIncrementSQL)
	// The scope starts as everything so that the definitions bind; the
	// increment narrows it.
	if err := execAll(ctx, tx, "update the activity ledger", scopeAll, ledgerDefinitions, []string{increment, ledgerActionsSQL}); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE ledger_rebuilt AS `+ledgerSQL); err != nil {
		return fmt.Errorf("update the activity ledger: %w", err)
	}
	added, err := execCount(ctx, tx, `INSERT INTO activity_ledger SELECT * FROM ledger_rebuilt`+ledgerOrder)
	if err != nil {
		return fmt.Errorf("update the activity ledger: %w", err)
	}
	var removed int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM ledger_redone`).Scan(&removed); err != nil {
		return err
	}
	st.Rows += added - removed
	st.Redone = added
	if err := execAll(ctx, tx, "summarise the activity ledger", resummarise); err != nil {
		return err
	}
	months, err := queryStrings(ctx, tx, `SELECT DISTINCT month FROM ledger_touched_subjects ORDER BY month`)
	if err != nil {
		return fmt.Errorf("summarise the activity ledger: %w", err)
	}
	for _, month := range months {
		if _, err := tx.ExecContext(ctx, touchedActivitySQL, month); err != nil {
			return fmt.Errorf("summarise the activity ledger: %w", err)
		}
	}
	return execAll(ctx, tx, "summarise the activity ledger", []string{subjectMonthsSQL})
}

// timestampLiteral is t in SQL; no time is before all times.
func timestampLiteral(t sql.NullTime) string {
	if !t.Valid {
		return `'-infinity'::TIMESTAMP`
	}
	return `TIMESTAMP '` + t.Time.UTC().Format("2006-01-02 15:04:05.999999") + `'`
}

// execAll runs the statements in order, each failure named by what.
func execAll(ctx context.Context, tx *sql.Tx, what string, lists ...[]string) error {
	for _, list := range lists {
		for _, q := range list {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
	}
	return nil
}

// queryStrings is the first column of the rows of query.
func queryStrings(ctx context.Context, tx *sql.Tx, query string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		list = append(list, s)
	}
	return list, rows.Err()
}

func execCount(ctx context.Context, tx *sql.Tx, query string, args ...any) (int64, error) {
	r, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}
