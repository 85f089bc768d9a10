package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/mauledger/mauledger/analysis"
	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/fail"
)

// globalOptions are the flags every command has.
type globalOptions struct {
	DB        string
	Verbose   bool
	LogFormat string
}

func newRootCmd(io *streams) *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:   "mauledger",
		Short: "Explain and audit Twilio Conversations monthly-active-user billing",
		Long: `mauledger loads Twilio Conversations evidence (webhooks, Event Streams) into an
embedded DuckDB, applies Twilio's monthly-active-user rules, and reports for
every month who is billed, why, and what it costs.`,
		Example: `  mauledger demo
  mauledger ingest events webhooks.ndjson
  mauledger ingest twilio
  mauledger report --month 2026-10
  mauledger explain alice@example.com --month 2026-10
  mauledger identities --month 2026-10
  mauledger close --config mauledger.yaml`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fail.Usagef("unknown command %q for mauledger (see mauledger --help)", args[0])
			}
			return nil
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if g.LogFormat != logText && g.LogFormat != logJSON {
				return fail.Usagef("--log-format %q: want text or json", g.LogFormat)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return fail.Usage(err) })
	root.PersistentFlags().StringVar(&g.DB, "db", "", "database file (default $MAULEDGER_DB, else ./"+ingest.DefaultPath+")")
	root.PersistentFlags().BoolVarP(&g.Verbose, "verbose", "v", false, "log debug detail to stderr")
	root.PersistentFlags().StringVar(&g.LogFormat, "log-format", logText, "logs on stderr as text (key=value) or json (one object per line)")
	root.AddCommand(
		newVersionCmd(io),
		newIngestCmd(io, g),
		newReportCmd(io, g),
		newExplainCmd(io, g),
		newIdentitiesCmd(io, g),
		newReconcileCmd(io, g),
		newDemoCmd(io, g),
		newServeCmd(io, g),
		newCloseCmd(io, g),
		newExportCmd(io, g),
		newConfigCmd(io),
	)
	return root
}

// dbPath resolves --db, then $MAULEDGER_DB, then the default file.
func (g *globalOptions) dbPath() string {
	if g.DB != "" {
		return g.DB
	}
	if env := os.Getenv("MAULEDGER_DB"); env != "" {
		return env
	}
	return ingest.DefaultPath
}

// logger is where a command logs: w (stderr), in --log-format, at the
// level -v says.
func (g *globalOptions) logger(w io.Writer) *slog.Logger {
	return newLogger(w, g.LogFormat, g.Verbose)
}

// openStore opens the database for writing, creating it if need be.
func (g *globalOptions) openStore(ctx context.Context) (*ingest.Store, error) {
	return storeError(ingest.Open(ctx, g.dbPath()))
}

// openExisting opens a database that must exist (for commands that read).
func (g *globalOptions) openExisting(ctx context.Context) (*ingest.Store, error) {
	return storeError(ingest.OpenExisting(ctx, g.dbPath()))
}

func storeError(s *ingest.Store, err error) (*ingest.Store, error) {
	if err != nil {
		return nil, fail.Store(err)
	}
	return s, nil
}

// analyze opens the existing database and an analyzer over it for fn.
func (g *globalOptions) analyze(ctx context.Context, settings analysis.Settings,
	fn func(*ingest.Store, *analysis.Analyzer) error) error {
	store, err := g.openExisting(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	a, err := analysis.New(ctx, store.DB, settings)
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(store, a)
}

// monthRange parses --month or --from/--to; a bad month is a usage error.
func monthRange(month, from, to string) (analysis.MonthRange, error) {
	r, err := analysis.ParseRange(month, from, to)
	if errors.Is(err, analysis.ErrBadMonth) {
		return r, fail.Usage(err)
	}
	return r, err
}

// refreshLedger ends every ingest: it stores the activity ledger of the
// evidence now in the database, so that reports only read it. An error
// leaves the previous ledger, which the next report or ingest rebuilds.
func refreshLedger(ctx context.Context, store *ingest.Store, log *slog.Logger) error {
	st, err := analysis.Refresh(ctx, store.DB)
	if err != nil {
		return fail.Store(err)
	}
	if st.Rebuilt {
		log.Debug("activity ledger updated", "activities", st.Rows, "whole", st.Whole, "redone", st.Redone,
			"took", st.Took.Round(10*time.Millisecond))
	}
	return nil
}
