package analysis

import (
	"context"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/mauledger/mauledger/internal/duckmem"
)

// The activity ledger is stored: building it reads all the evidence (about
// 3.5 seconds per million events), so it is built once per change of the
// evidence rather than once per report. activity_ledger holds the rows of
// ledger.sql, ledger_subject_months their billable part per subject and
// month (subject_months.sql), ledger_state the fingerprint of the evidence
// and of the rules they were built from. All three are derived data:
// Refresh can always rebuild them, and nothing else writes them.

// rulesVersion changes whenever the rules or the summary do (the rule bits
// follow the order of Rules), so a newer mauledger rebuilds a ledger that
// an older one stored.
var rulesVersion = func() string {
	sum := sha256.Sum256([]byte(strings.Join(ledgerStages, "") + ledgerSQL + subjectMonthsSQL + strings.Join(Rules, ",")))
	return hex.EncodeToString(sum[:8])
}()

var (
	//go:embed ledger_services.sql
	ledgerServicesSQL string
	//go:embed ledger_evidence.sql
	ledgerEvidenceSQL string
	//go:embed ledger_actions.sql
	ledgerActionsSQL string

	// ledgerStages are the first three steps of the build, which define
	// temporary tables and views on the building connection; ledger.sql,
	// the fourth, selects the ledger's rows from them.
	ledgerStages = []string{ledgerServicesSQL, ledgerEvidenceSQL, ledgerActionsSQL}
)

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

// fingerprintSQL tells whether the evidence changed. Events and token logs
// are only ever added to; REST snapshot rows are replaced in place, with a
// new fetched_at. Services and conversations are evidence too: they tell
// the service of Event Streams events.
const fingerprintSQL = `SELECT concat_ws('/', ?,
    (SELECT count(*) FROM events),
    (SELECT count(*) FROM token_issues),
    (SELECT count(*) || '@' || coalesce(max(fetched_at)::VARCHAR, '') FROM twilio_services),
    (SELECT count(*) || '@' || coalesce(max(fetched_at)::VARCHAR, '') FROM twilio_conversations),
    (SELECT count(*) || '@' || coalesce(max(fetched_at)::VARCHAR, '') FROM twilio_users),
    (SELECT count(*) || '@' || coalesce(max(fetched_at)::VARCHAR, '') FROM twilio_participants),
    (SELECT count(*) || '@' || coalesce(max(fetched_at)::VARCHAR, '') FROM twilio_messages))`

// LedgerStatus tells what Refresh did.
type LedgerStatus struct {
	Rows    int64         // rows of the stored ledger
	Rebuilt bool          // false: the stored ledger was up to date
	Took    time.Duration // how long the rebuild took
}

// Refresh brings the stored activity ledger up to date with the evidence in
// db, in one transaction, and does nothing when it already is. Every ingest
// ends with it, so that reports only read.
func Refresh(ctx context.Context, db *sql.DB) (LedgerStatus, error) {
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
	var current, stored string
	if err := tx.QueryRowContext(ctx, fingerprintSQL, rulesVersion).Scan(&current); err != nil {
		return st, fmt.Errorf("check the activity ledger: %w", err)
	}
	err = tx.QueryRowContext(ctx, `SELECT fingerprint, rows FROM ledger_state`).Scan(&stored, &st.Rows)
	if err != nil && err != sql.ErrNoRows {
		return st, fmt.Errorf("check the activity ledger: %w", err)
	}
	if stored == current {
		return st, tx.Commit()
	}
	start := time.Now()
	restore, err := duckmem.Limit(ctx, conn, duckmem.Budget)
	if err != nil {
		return st, err
	}
	defer restore()
	for _, q := range append([]string{`DELETE FROM activity_ledger`}, ledgerStages...) {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return st, fmt.Errorf("build the activity ledger: %w", err)
		}
	}
	if st.Rows, err = execCount(ctx, tx, `INSERT INTO activity_ledger `+ledgerSQL); err != nil {
		return st, fmt.Errorf("build the activity ledger: %w", err)
	}
	if err := defineRuleMacros(ctx, conn); err != nil {
		return st, err
	}
	for _, q := range []string{`DELETE FROM ledger_subject_months`, subjectMonthsSQL, `DELETE FROM ledger_state`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return st, fmt.Errorf("summarise the activity ledger: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_state VALUES (?, now()::TIMESTAMP, ?)`, current, st.Rows); err != nil {
		return st, err
	}
	if err := tx.Commit(); err != nil {
		return st, fmt.Errorf("store the activity ledger: %w", err)
	}
	// Written out now, under the memory limit: the checkpoint DuckDB would
	// otherwise make when the database closes took 8 GB for a 5M-row ledger.
	if _, err := conn.ExecContext(ctx, `CHECKPOINT`); err != nil {
		return st, fmt.Errorf("store the activity ledger: %w", err)
	}
	st.Rebuilt, st.Took = true, time.Since(start)
	return st, nil
}

func execCount(ctx context.Context, tx *sql.Tx, query string, args ...any) (int64, error) {
	r, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}
