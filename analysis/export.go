package analysis

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/mauledger/mauledger/internal/parquet"
)

// The tables `mauledger export` writes as Parquet.
const (
	// ExportLedger is the stored activity ledger, every row, whatever the
	// settings: what a warehouse needs to apply them itself.
	ExportLedger = "ledger"
	// ExportSubjectMonths is the billed subjects of each month under the
	// settings, one row per month, service and subject, with the first
	// qualifying activity.
	ExportSubjectMonths = "subject-months"
)

// exportQueries select each exported table's rows for the months $from to
// $to; redact is the SQL function that pseudonymises a subject.
var exportQueries = map[string]string{
	ExportLedger: `SELECT * EXCLUDE (action_hash) REPLACE (redact(subject) AS subject),
	       CASE WHEN service_sid = '' THEN 'unknown' ELSE service_sid END AS service
	FROM activity_ledger WHERE month BETWEEN '%[1]s' AND '%[2]s'`,
	ExportSubjectMonths: `SELECT month, service_sid, subject_kind, redact(subject) AS subject, activities,
	       first.at AS first_at, first.rule AS first_rule, first.source AS first_source, first.origin AS first_origin,
	       first.evidence AS first_evidence, first.timed_by AS first_timed_by, last_at, rule_list(rule_bits) AS rules
	FROM subject_months WHERE month BETWEEN '%[1]s' AND '%[2]s'`,
}

// exportPartitions are the columns each table's folders are named by.
var exportPartitions = map[string][]string{
	ExportLedger:        {"month", "service"},
	ExportSubjectMonths: {"month"},
}

// Export writes table for the months of r to dir as Hive-partitioned
// Parquet, subjects through redact when it is not nil, and returns the
// number of rows written.
func (a *Analyzer) Export(ctx context.Context, table string, r MonthRange, dir string, redact func(string) string) (int64, error) {
	query, ok := exportQueries[table]
	if !ok {
		return 0, fmt.Errorf("unknown export %q: want ledger, subject-months or monthly", table)
	}
	if err := a.defineRedact(ctx, redact); err != nil {
		return 0, err
	}
	n, err := parquet.Copy(ctx, a.conn, fmt.Sprintf(query, r.From, r.To), dir, exportPartitions[table]...)
	if err != nil {
		return n, fmt.Errorf("export %s: %w", table, err)
	}
	return n, nil
}

// defineRedact makes redact(subject) the SQL function the export queries
// call: the Go pseudonymiser, or the subject itself.
func (a *Analyzer) defineRedact(ctx context.Context, redact func(string) string) error {
	if redact == nil {
		_, err := a.conn.ExecContext(ctx, `CREATE OR REPLACE TEMP MACRO redact(s) AS s`)
		return err
	}
	varchar, err := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	if err != nil {
		return err
	}
	return duckdb.RegisterScalarUDF(a.conn, "redact", redactUDF{varchar, redact})
}

// redactUDF is a DuckDB scalar function running a Go pseudonymiser.
type redactUDF struct {
	varchar duckdb.TypeInfo
	redact  func(string) string
}

func (u redactUDF) Config() duckdb.ScalarFuncConfig {
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{u.varchar}, ResultTypeInfo: u.varchar}
}

func (u redactUDF) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(values []driver.Value) (any, error) {
		return u.redact(values[0].(string)), nil
	}}
}

// ErrEmptyLedger means the ledger has no activity to take months from.
var ErrEmptyLedger = errors.New("the activity ledger is empty")

// LedgerMonths is the range from the ledger's first month to its last.
func (a *Analyzer) LedgerMonths(ctx context.Context) (MonthRange, error) {
	var from, to sql.NullString
	if err := a.conn.QueryRowContext(ctx, `SELECT min(month), max(month) FROM activity_ledger`).Scan(&from, &to); err != nil {
		return MonthRange{}, err
	}
	if !from.Valid {
		return MonthRange{}, ErrEmptyLedger
	}
	return ParseRange("", from.String, to.String)
}
