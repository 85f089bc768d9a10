package analysis

import (
	"context"
	"database/sql"
)

// RefreshWhole builds the whole ledger even when an incremental build would
// do, so that tests can compare the two.
func RefreshWhole(ctx context.Context, db *sql.DB) (LedgerStatus, error) {
	return refresh(ctx, db, true)
}
