// Package duckmem bounds the memory of DuckDB's work. DuckDB otherwise
// caches up to 80% of the machine's memory, so a large load, ledger build or report
// would grow with the database; beyond its limit DuckDB spills to disk.
package duckmem

import (
	"context"
	"database/sql"
	"fmt"
)

// Budget is the memory DuckDB may use for a load or a ledger build:
// enough for its parallel hash tables, with the process under 2 GiB
// whatever the size of the database.
const Budget = "1GB"

// ReportBudget is the memory DuckDB may use for the queries of a report,
// explain or identities: half of Budget keeps a twelve-month workbook of
// 10 million events under 1.2 GiB in all (the workbook writer needs some
// 300 MB of its own), and the report no slower (measured in README).
const ReportBudget = "512MB"

// Limit sets DuckDB's memory_limit to limit and returns the function that
// puts the previous limit back. The setting belongs to the whole database
// instance, so the analysis that may follow in the same process needs it
// back. It is restored by SET: DuckDB 1.5's RESET changes the setting but
// not the size of the buffer pool.
func Limit(ctx context.Context, conn *sql.Conn, limit string) (restore func(), err error) {
	var previous string
	if err := conn.QueryRowContext(ctx, `SELECT current_setting('memory_limit')`).Scan(&previous); err != nil {
		return nil, fmt.Errorf("read memory_limit: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `SET memory_limit = '`+limit+`'`); err != nil {
		return nil, fmt.Errorf("set memory_limit: %w", err)
	}
	return func() {
		conn.ExecContext(context.WithoutCancel(ctx), `SET memory_limit = '`+previous+`'`)
	}, nil
}
