package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mauledger/mauledger/analysis"
	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/demo"
	"github.com/mauledger/mauledger/internal/fail"
	"github.com/mauledger/mauledger/internal/monthclose"
	"github.com/mauledger/mauledger/internal/twiliofake"
	"github.com/mauledger/mauledger/reports"
)

type demoOptions struct {
	io     *streams
	global *globalOptions
	OutDir string
}

func newDemoCmd(io *streams, g *globalOptions) *cobra.Command {
	o := &demoOptions{io: io, global: g}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run mauledger end to end on a built-in synthetic account",
		Long: `Generate a deterministic synthetic Twilio Conversations account (three
services, six months, tens of thousands of identities: steady named users,
random-UUID guests who churn every month, SMS and WhatsApp addresses, back-office
REST updates), load it through the same code as "ingest events", and write the
report for every month as XLSX, JSON, CSV and HTML into the output folder.

The demo keeps its own database, DIR/demo.duckdb, made anew on each run; explore
it afterwards with --db DIR/demo.duckdb.`,
		Example: `  mauledger demo
  mauledger demo --out-dir /tmp/demo
  mauledger report --db mauledger-demo/demo.duckdb --month 2026-07`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("db") {
				return fail.Usagef("demo writes its own database in --out-dir; --db does not apply")
			}
			return o.run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&o.OutDir, "out-dir", "mauledger-demo", "folder for the demo's events, database and reports")
	return cmd
}

// demoRun is what the demo did, for its summary.
type demoRun struct {
	stats      demo.Stats
	loaded     ingest.EventsResult
	pulled     ingest.TwilioResult
	pulledWhat string
	report     *analysis.Report
	written    []string
	dbPath     string
	configPath string
	closed     monthclose.Result
}

func (o *demoOptions) run(ctx context.Context) error {
	started := time.Now()
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return fail.Input(fmt.Errorf("demo folder %s: %w", o.OutDir, unwrapPathError(err)))
	}
	cfg := demo.DefaultConfig()
	d := &demoRun{dbPath: filepath.Join(o.OutDir, "demo.duckdb"), configPath: filepath.Join(o.OutDir, "mauledger.yaml")}
	eventsPath := filepath.Join(o.OutDir, "events.ndjson")
	err := writeFileAtomic(eventsPath, func(w io.Writer) error {
		bw := bufio.NewWriterSize(ctxWriter{ctx, w}, 1<<20)
		var err error
		if d.stats, err = demo.Generate(bw, cfg); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return err
	}
	first := analysis.MonthOf(cfg.Start)
	last := analysis.MonthOf(cfg.Start.AddDate(0, cfg.Months-1, 0))
	if err := o.loadAndReport(ctx, cfg, eventsPath, analysis.MonthRange{From: first, To: last}, d); err != nil {
		return err
	}
	if err := o.closeLastMonth(ctx, last, d); err != nil {
		return err
	}
	return o.summarise(d, time.Since(started))
}

// loadAndReport makes the demo database anew from the events file and the
// fake REST API, and writes the report of every month beside it.
func (o *demoOptions) loadAndReport(ctx context.Context, cfg demo.Config, eventsPath string, months analysis.MonthRange, d *demoRun) error {
	for _, stale := range []string{d.dbPath, d.dbPath + ".wal"} {
		if err := os.Remove(stale); err != nil && !os.IsNotExist(err) {
			return fail.Store(fmt.Errorf("remove the previous demo database: %w", err))
		}
	}
	store, err := storeError(ingest.Open(ctx, d.dbPath))
	if err != nil {
		return err
	}
	defer store.Close()
	f, err := os.Open(eventsPath)
	if err != nil {
		return err
	}
	defer f.Close()
	if d.loaded, err = store.LoadEvents(ctx, eventsPath, f); err != nil {
		return err
	}
	if len(d.loaded.Rejected) > 0 { // the generator and the loader disagree: a bug
		r := d.loaded.Rejected[0]
		return fmt.Errorf("demo events rejected (%d), first at %s:%d: %s", len(d.loaded.Rejected), eventsPath, r.Line, r.Reason)
	}
	if d.pulled, d.pulledWhat, err = o.pullREST(ctx, store, cfg, months); err != nil {
		return err
	}
	a, err := analysis.New(ctx, store.DB, analysis.DefaultSettings())
	if err != nil {
		return err
	}
	defer a.Close()
	if d.report, err = a.Report(ctx, months, analysis.ReportOptions{Billed: true}); err != nil {
		return err
	}
	for _, format := range []reports.Format{reports.XLSX, reports.JSON, reports.CSV, reports.HTML} {
		path := filepath.Join(o.OutDir, "report."+string(format))
		err := writeFileAtomic(path, func(w io.Writer) error {
			return reports.WriteReport(w, d.report, reports.Options{Format: format})
		})
		if err != nil {
			return err
		}
		d.written = append(d.written, path)
	}
	return nil
}

// demoConfig is the config the demo leaves beside its database, so that
// `mauledger close --config DIR/mauledger.yaml` repeats its close.
const demoConfig = `# The demo's close: mauledger close --config %[1]s
# Its sources are already in the database; load a late file with
#   mauledger ingest events --db %[2]s FILE
# and close again to see a restatement. "mauledger config example" lists
# every key. The month is pinned to the demo's last; a schedule leaves it
# out, to close the last full month.
month: %[3]s
database: demo.duckdb
output:
  dir: closed
  formats: [xlsx, json, csv, html, identities-csv, identities-json]
`

// closeLastMonth writes the demo's config and closes its last month with
// it, as "mauledger close --config" does.
func (o *demoOptions) closeLastMonth(ctx context.Context, month analysis.Month, d *demoRun) error {
	err := writeFileAtomic(d.configPath, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, demoConfig, d.configPath, d.dbPath, month)
		return err
	})
	if err != nil {
		return err
	}
	cfg, err := loadConfig(d.configPath)
	if err != nil {
		return err
	}
	c := &closeOptions{io: o.io, global: o.global}
	job, err := c.job(cfg)
	if err != nil {
		return err
	}
	if !o.global.Verbose { // the summary says what the close did
		job.Log = slog.New(slog.DiscardHandler)
	}
	d.closed, err = monthclose.Run(ctx, job)
	return err
}

// The demo's fake Twilio account and its credentials: the fake accepts
// nothing else.
const (
	demoAccountSID = "AC00000000000000000000000000000de0"
	demoAuthToken  = "demo0authtoken"
)

// pullREST serves the demo account's REST side (its resources as the
// events left them) from the fake Twilio API and pulls it with the real
// ingester, as "ingest twilio --service" would. It pulls the smallest
// service only, as the whole account takes a minute of CPU to serve and
// pull in one process; that is the Event Streams service, the one the
// snapshot is needed for: its CloudEvents do not name their service, which
// the ledger learns from the conversations and users the REST API lists
// under it. Should another service ever be smaller, the Event Streams one is
// pulled as well. The fake's usage records count each identity or address
// once per account and month, so that "reconcile" has something to explain.
// It also says which services it pulled, for the summary.
func (o *demoOptions) pullREST(ctx context.Context, store *ingest.Store, cfg demo.Config, months analysis.MonthRange) (ingest.TwilioResult, string, error) {
	eventStreams := cfg.EventStreamsService()
	account, err := demo.RESTAccount(ctx, store.DB, demoAccountSID, eventStreams)
	if err != nil {
		return ingest.TwilioResult{}, "", err
	}
	smallest := slices.MinFunc(account.Services, func(x, y *twiliofake.Service) int {
		return len(x.Conversations) - len(y.Conversations)
	})
	services, what := []string{smallest.SID}, "its smallest service"
	switch {
	case eventStreams == smallest.SID:
		what = "its smallest service, the Event Streams one"
	case eventStreams != "":
		services = append(services, eventStreams)
		what = "its smallest service and its Event Streams service"
	}
	perAccount := analysis.DefaultSettings()
	perAccount.Scope = analysis.ScopeAccount
	byAccount, err := analysis.New(ctx, store.DB, perAccount)
	if err != nil {
		return ingest.TwilioResult{}, "", err
	}
	defer byAccount.Close()
	rep, err := byAccount.Report(ctx, months, analysis.ReportOptions{})
	if err != nil {
		return ingest.TwilioResult{}, "", err
	}
	for i, m := range months.Months() {
		account.Usage = append(account.Usage, twiliofake.UsageRecord{Category: analysis.TwilioMAUCategory,
			Description: "Conversations", Month: m.Start(), Count: rep.Months[i].ActiveUsers, CountUnit: "users"})
	}
	fake := twiliofake.New(account, demoAuthToken)
	defer fake.Close()
	res, err := ingest.NewTwilioPull(store, ingest.TwilioOptions{
		Credentials: ingest.TwilioCredentials{AccountSID: demoAccountSID, AuthToken: demoAuthToken},
		Services:    services,
		BaseURL:     fake.URL,
		Concurrency: 8,
		Log:         o.global.logger(o.io.Err),
	}).Run(ctx)
	return res, what, err
}

func (o *demoOptions) summarise(d *demoRun, took time.Duration) error {
	out := o.io.Out
	stats, loaded, pulled, pulledWhat, rep := d.stats, d.loaded, d.pulled, d.pulledWhat, d.report
	fmt.Fprintf(out, "Demo account: %d events generated (%d webhooks, %d CloudEvents, %d retries); %d loaded, %d duplicates collapsed.\n",
		stats.Lines, stats.Webhooks, stats.CloudEvents, stats.Retries, loaded.Loaded, loaded.Duplicates)
	fmt.Fprintf(out, "REST API of %s (a local fake of Twilio, pulled by ingest twilio): %d users, %d conversations, %d participants, %d messages in %d requests.\n\n",
		pulledWhat, pulled.Users, pulled.Conversations, pulled.Participants, pulled.Messages, pulled.Requests)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "month\tactive users\tidentities\taddresses\tsdk\trest\tchannel\tcost\t")
	for _, m := range rep.Months {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%.2f %s\t\n", m.Month, m.ActiveUsers, m.Identities, m.Addresses,
			m.ByFamily["sdk"], m.ByFamily["rest"], m.ByFamily["channel"], m.Cost.Total, m.Cost.Currency)
	}
	tw.Flush()
	fmt.Fprintf(out, "\nReports: %s\nDatabase: %s\n", strings.Join(d.written, ", "), d.dbPath)
	fmt.Fprintf(out, "Month close: %s\n", monthclose.Summary(d.closed))
	if len(rep.Months) > 0 && len(rep.Months[0].Billed) > 0 {
		b := rep.Months[0].Billed[0]
		fmt.Fprintf(out, "Try: mauledger explain %q --month %s --db %s\n", b.Subject, rep.Months[0].Month, d.dbPath)
	}
	if n := len(rep.Months); n > 0 {
		fmt.Fprintf(out, "     mauledger identities --month %s --db %s\n", rep.Months[n-1].Month, d.dbPath)
	}
	fmt.Fprintf(out, "     mauledger close --config %s\n", d.configPath)
	fmt.Fprintf(out, "Done in %s.\n", took.Round(100*time.Millisecond))
	return nil
}

// ctxWriter stops a long write once ctx is cancelled (Ctrl-C).
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
