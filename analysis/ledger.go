package analysis

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/mauledger/mauledger/internal/duckmem"
)

// The activity ledger is stored: building it reads all the evidence (about
// a second per million events), so it is built once per change of the
// evidence rather than once per report. activity_ledger holds the rows of
// ledger.sql; ledger_state the fingerprint of the evidence and of the rules
// they were built from. Both are derived data: Refresh can always rebuild
// them, and nothing else writes them.

// rulesVersion changes whenever ledger.sql does, so a newer mauledger
// rebuilds a ledger that an older one stored.
var rulesVersion = func() string {
	sum := sha256.Sum256([]byte(ledgerSQL))
	return hex.EncodeToString(sum[:8])
}()

// fingerprintSQL tells whether the evidence changed. Events and token logs
// are only ever added to; REST snapshot rows are replaced in place, with a
// new fetched_at.
const fingerprintSQL = `SELECT concat_ws('/', ?,
    (SELECT count(*) FROM events),
    (SELECT count(*) FROM token_issues),
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
	if _, err := tx.ExecContext(ctx, `DELETE FROM activity_ledger`); err != nil {
		return st, fmt.Errorf("build the activity ledger: %w", err)
	}
	if st.Rows, err = execCount(ctx, tx, `INSERT INTO activity_ledger `+ledgerSQL); err != nil {
		return st, fmt.Errorf("build the activity ledger: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM ledger_state`); err != nil {
		return st, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_state VALUES (?, now()::TIMESTAMP, ?)`, current, st.Rows); err != nil {
		return st, err
	}
	if err := tx.Commit(); err != nil {
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
