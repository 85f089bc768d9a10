package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/mauledger/mauledger/analysis"
	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/fail"
	"github.com/mauledger/mauledger/reports"
)

// settingsOptions are the flags that change what is counted and priced.
type settingsOptions struct {
	Scope          string
	Evidence       string
	UnknownAuthors string
	Prices         string
}

func (s *settingsOptions) bind(cmd *cobra.Command) {
	s.bindScope(cmd)
	s.bindBilled(cmd)
	cmd.Flags().StringVar(&s.Prices, "prices", "", "price table, a YAML or JSON file of graduated bands (default: Twilio's list prices)")
}

func (s *settingsOptions) bindScope(cmd *cobra.Command) {
	cmd.Flags().StringVar(&s.Scope, "scope", string(analysis.ScopeService), "what one user is: service (a subject per Conversation Service) or account")
}

// bindBilled binds the flags that say what may bill a user.
func (s *settingsOptions) bindBilled(cmd *cobra.Command) {
	cmd.Flags().StringVar(&s.Evidence, "evidence", string(analysis.EvidenceStrict),
		"what may bill a user: strict (proven activity) or inferred (also access tokens issued, from ingest tokens)")
	cmd.Flags().StringVar(&s.UnknownAuthors, "unknown-authors", string(analysis.UnknownAuthorsIgnore),
		"a message's author that is no participant, known identity or participant address: ignore (a data-quality finding) or bill")
}

// billed sets, in set, what the flags of bindBilled say.
func (s *settingsOptions) billed(set *analysis.Settings) error {
	switch e := analysis.Evidence(s.Evidence); e {
	case analysis.EvidenceStrict, analysis.EvidenceInferred:
		set.Evidence = e
	default:
		return fail.Usagef("--evidence %q: want strict or inferred", s.Evidence)
	}
	switch u := analysis.UnknownAuthors(s.UnknownAuthors); u {
	case analysis.UnknownAuthorsIgnore, analysis.UnknownAuthorsBill:
		set.UnknownAuthors = u
	default:
		return fail.Usagef("--unknown-authors %q: want ignore or bill", s.UnknownAuthors)
	}
	return nil
}

func (s *settingsOptions) settings() (analysis.Settings, error) {
	set := analysis.DefaultSettings()
	if err := s.billed(&set); err != nil {
		return set, err
	}
	switch analysis.Scope(s.Scope) {
	case analysis.ScopeService, analysis.ScopeAccount:
		set.Scope = analysis.Scope(s.Scope)
	default:
		return set, fail.Usagef("--scope %q: want service or account", s.Scope)
	}
	if s.Prices != "" {
		p, err := analysis.LoadPrices(s.Prices)
		if err != nil {
			return set, fail.Input(err)
		}
		set.Prices = p
	}
	return set, nil
}

type reportOptions struct {
	io              *streams
	global          *globalOptions
	Month, From, To string
	Ledger          string
	settings        settingsOptions
	output          outputOptions
}

func newReportCmd(io *streams, g *globalOptions) *cobra.Command {
	o := &reportOptions{io: io, global: g}
	cmd := &cobra.Command{
		Use:   "report (--month YYYY-MM | --from YYYY-MM --to YYYY-MM)",
		Short: "Monthly active users, by family, rule and service, and their cost",
		Long: `Report, for each month, the billed monthly active users (identities and
addresses), how many were active through each family and rule, per
Conversation Service, and the cost under a graduated price table.

A month is complete only when live capture covers it without a gap longer
than 4 hours and a REST snapshot was taken after it ended; otherwise its
coverage says why, and its figures are a lower bound. Activities whose
Conversation Service no evidence tells are counted on a "service unknown"
line until ingest twilio tells it. Only proven activity is billed unless
--evidence inferred also counts access tokens issued (see ingest tokens);
a message's author that nobody knows bills only with --unknown-authors bill.
The About section says which. The JSON format ("schema":
"mauledger.report/v1") is a stable interface for scripts.

--ledger DIR reports from a folder that export ledger wrote instead of
the database (not with --db), in every format, with any settings: the same
figures, byte for byte in JSON apart from generated_at, for the months the
folder holds. An export made with --redact gives a redacted report; with
--ledger, --redact needs such an export (the key stays in the database).`,
		Example: `  mauledger report --month 2026-10
  mauledger report --from 2025-11 --to 2026-10 --format json --out year.json
  mauledger report --month 2026-10 --out october.xlsx --redact
  mauledger report --from 2026-05 --to 2026-10 --out report.html
  mauledger report --from 2026-01 --to 2026-12 --format parquet --out monthly/
  mauledger report --month 2026-10 --scope account --prices contract.yaml
  mauledger report --month 2026-10 --evidence inferred
  mauledger report --month 2026-10 --unknown-authors bill
  mauledger report --from 2026-05 --to 2026-10 --ledger warehouse/ledger --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Ledger != "" && cmd.Flags().Changed("db") {
				return fail.Usagef("--ledger and --db: a report reads either an export or the database, not both")
			}
			return o.run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&o.Month, "month", "", "the month to report, YYYY-MM (UTC)")
	cmd.Flags().StringVar(&o.From, "from", "", "first month of a range, YYYY-MM")
	cmd.Flags().StringVar(&o.To, "to", "", "last month of a range, YYYY-MM")
	cmd.Flags().StringVar(&o.Ledger, "ledger", "", "report from this folder that export ledger wrote, not from the database")
	o.settings.bind(cmd)
	o.output.bind(cmd, "table, csv, json, xlsx, html or parquet (a folder: --out DIR) (default: from --out's extension, else table)")
	return cmd
}

func (o *outputOptions) bind(cmd *cobra.Command, formats string) {
	cmd.Flags().StringVar(&o.Format, "format", "", formats)
	cmd.Flags().StringVarP(&o.Out, "out", "o", "", "write to this file (whole or not at all) instead of stdout")
	cmd.Flags().BoolVar(&o.Redact, "redact", false, "replace identities and addresses with stable pseudonyms (personal data)")
}

func (o *reportOptions) run(ctx context.Context) error {
	r, err := monthRange(o.Month, o.From, o.To)
	if err != nil {
		return err
	}
	settings, err := o.settings.settings()
	if err != nil {
		return err
	}
	format, err := o.output.resolve(o.io)
	if err != nil {
		return err
	}
	if format == reports.Parquet && o.output.Out == "" {
		return fail.Usagef("parquet is a folder of files: name it with --out DIR")
	}
	write := func(a *analysis.Analyzer, redactFn func(string) string, database string) error {
		rep, err := a.Report(ctx, r, analysis.ReportOptions{StreamBilled: format == reports.XLSX})
		if err != nil {
			return err
		}
		if format == reports.Parquet { // the monthly table: no subject in it to redact
			return writeMonthlyParquet(ctx, rep, o.output.Out)
		}
		return o.output.write(o.io, func(w io.Writer) error {
			return reports.WriteReport(w, rep, reports.Options{Format: format, Redact: redactFn, Database: database})
		})
	}
	if o.Ledger != "" {
		return o.fromLedgerDir(ctx, r, settings, write)
	}
	return o.global.analyze(ctx, settings, func(store *ingest.Store, a *analysis.Analyzer) error {
		redactFn, err := o.output.redactor(ctx, store)
		if err != nil {
			return err
		}
		return write(a, redactFn, store.Path)
	})
}

// fromLedgerDir runs write over the export of the ledger in --ledger. Its
// subjects are already pseudonyms if it was exported with --redact, and
// they are not redacted twice.
func (o *reportOptions) fromLedgerDir(ctx context.Context, r analysis.MonthRange, settings analysis.Settings,
	write func(a *analysis.Analyzer, redactFn func(string) string, database string) error) error {
	a, m, err := analysis.OpenLedgerDir(ctx, o.Ledger, settings)
	switch {
	case errors.Is(err, analysis.ErrNotLedgerExport):
		return fail.Input(err)
	case errors.Is(err, analysis.ErrOtherRules):
		return fail.Store(err)
	case err != nil:
		return err
	}
	defer a.Close()
	if err := m.Covers(r); err != nil {
		return fail.Usage(fmt.Errorf("--ledger %s: %w", o.Ledger, err))
	}
	if partial := m.Partial(); partial != "" {
		o.global.logger(o.io.Err).Warn(partial, "ledger", o.Ledger)
	}
	if o.output.Redact && !m.Redacted {
		return fail.Usagef("--redact: %s was exported without --redact and the key is in the database: export it with --redact", o.Ledger)
	}
	return write(a, nil, o.Ledger)
}
