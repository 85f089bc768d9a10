package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mauledger/mauledger/analysis"
	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/fail"
	"github.com/mauledger/mauledger/internal/parquet"
	"github.com/mauledger/mauledger/reports"
)

type exportOptions struct {
	io              *streams
	global          *globalOptions
	Table           string
	Out             string
	Month, From, To string
	Redact          bool
	settings        settingsOptions
}

// exportMonthly names the monthly figures, which `export` writes from the
// report rather than from a stored table.
const exportMonthly = "monthly"

func newExportCmd(io *streams, g *globalOptions) *cobra.Command {
	o := &exportOptions{io: io, global: g}
	cmd := &cobra.Command{
		Use:   "export (ledger|subject-months|monthly) --out DIR",
		Short: "Write the ledger, the billed subjects or the monthly figures as Hive-partitioned Parquet",
		Long: `Write a table as Parquet files (zstd) in DIR, Hive-partitioned by month
(DIR/month=2026-10/data_0.parquet), for a warehouse, Spark, Trino, ClickHouse
or DuckDB to read:

  ledger          the activity ledger, every row whatever the settings, also
                  partitioned by service (service=IS... or service=unknown);
                  beside it, in files named _*, what report --ledger DIR
                  needs to report these months without the database
  subject-months  the billed subjects of each month under the settings, one
                  row per month, service and subject, with the first
                  qualifying activity
  monthly         the report's figures: a row per month for the account
                  (service_sid ALL, with the cost) and one per service

The months are --month or --from/--to, else every month of the ledger. DIR
must not exist or be empty; it is written whole or not at all. --redact
replaces identities and addresses with the pseudonyms of report --redact.`,
		Example: `  mauledger export ledger --out warehouse/ledger
  mauledger export subject-months --from 2026-01 --to 2026-12 --out billed/ --redact
  mauledger export monthly --out monthly/`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Table = args[0]
			return o.run(cmd.Context())
		},
	}
	cmd.Flags().StringVarP(&o.Out, "out", "o", "", "the folder to write (must not exist, or be empty)")
	cmd.Flags().StringVar(&o.Month, "month", "", "one month, YYYY-MM")
	cmd.Flags().StringVar(&o.From, "from", "", "first month, YYYY-MM")
	cmd.Flags().StringVar(&o.To, "to", "", "last month, YYYY-MM")
	cmd.Flags().BoolVar(&o.Redact, "redact", false, "replace identities and addresses with stable pseudonyms (personal data)")
	o.settings.bind(cmd)
	return cmd
}

func (o *exportOptions) run(ctx context.Context) error {
	switch o.Table {
	case analysis.ExportLedger, analysis.ExportSubjectMonths, exportMonthly:
	default:
		return fail.Usagef("export %q: want ledger, subject-months or monthly", o.Table)
	}
	if o.Out == "" {
		return fail.Usagef("export needs --out DIR")
	}
	settings, err := o.settings.settings()
	if err != nil {
		return err
	}
	var r analysis.MonthRange
	if o.Month != "" || o.From != "" || o.To != "" {
		if r, err = monthRange(o.Month, o.From, o.To); err != nil {
			return err
		}
	}
	return o.global.analyze(ctx, settings, func(store *ingest.Store, a *analysis.Analyzer) error {
		if r == (analysis.MonthRange{}) {
			if r, err = a.LedgerMonths(ctx); err != nil {
				return fail.Input(err)
			}
		}
		if o.Table == exportMonthly {
			rep, err := a.Report(ctx, r, analysis.ReportOptions{})
			if err != nil {
				return err
			}
			if err := writeMonthlyParquet(ctx, rep, o.Out); err != nil {
				return err
			}
			fmt.Fprintf(o.io.Out, "%s: monthly figures of %s to %s\n", o.Out, r.From, r.To)
			return nil
		}
		output := outputOptions{Redact: o.Redact}
		redactFn, err := output.redactor(ctx, store)
		if err != nil {
			return err
		}
		if o.Table == analysis.ExportLedger {
			m, err := a.ExportLedgerDir(ctx, r, o.Out, redactFn,
				analysis.LedgerManifest{MauledgerVersion: buildVersion(), DatabaseSchema: ingest.SchemaVersion()})
			if err != nil {
				return exportError(err)
			}
			fmt.Fprintf(o.io.Out, "%s: %d rows of ledger, %s to %s (report --ledger %s reads it)\n", o.Out, m.Rows["ledger"], r.From, r.To, o.Out)
			return nil
		}
		n, err := a.Export(ctx, o.Table, r, o.Out, redactFn)
		if err != nil {
			return exportError(err)
		}
		fmt.Fprintf(o.io.Out, "%s: %d rows of %s, %s to %s\n", o.Out, n, o.Table, r.From, r.To)
		return nil
	})
}

// writeMonthlyParquet writes the report's monthly table to dir, through a
// DuckDB in memory: the report may come from a store or an export.
func writeMonthlyParquet(ctx context.Context, rep *analysis.Report, dir string) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return exportError(parquet.Write(ctx, conn, dir, reports.MonthlyColumns(), reports.MonthlyRows(rep), "month"))
}

func exportError(err error) error {
	if errors.Is(err, parquet.ErrExists) {
		return fail.Input(err)
	}
	return err
}
