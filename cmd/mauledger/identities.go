package main

import (
	"context"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/mauledger/mauledger/analysis"
	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/fail"
	"github.com/mauledger/mauledger/reports"
)

type identitiesOptions struct {
	io              *streams
	global          *globalOptions
	Month, From, To string
	Service         string
	Window          time.Duration
	LintOnly        bool
	settings        settingsOptions
	output          outputOptions
}

func newIdentitiesCmd(io *streams, g *globalOptions) *cobra.Command {
	o := &identitiesOptions{io: io, global: g}
	cmd := &cobra.Command{
		Use:   "identities (--month YYYY-MM | --from YYYY-MM --to YYYY-MM)",
		Short: "Identity hygiene: random-identity churn, duplicates, avoidable activity and identity lint, with their cost",
		Long: `Reduce every billed identity to its shape (guest-{uuid}, user_{int}, {email}...)
and say, for each month: which shapes are random, the one-shot identities
(billed in one month only, all activity within --window, never an author),
duplicates (one person written two ways, or an identity that is an address's
phone number), churn (new, returning, reactivated, churned) and the share of
users that are new random identities, activity that bills users for nothing
(connect-only, REST-write-only, addresses added then silent) priced at the
month's marginal rate, and the month had no one-shot random identity been
created.

Identity lint checks every billed identity against Twilio's identity advice
and common bugs: reserved-characters (URI-reserved characters; the @ of an
email address is a note), too-long (over 256 characters), whitespace,
control-characters, non-ascii (invisible characters, compatibility forms,
lookalike letters of mixed scripts), placeholder-bug (undefined, null,
[object Object], unfilled templates), generic (guest, test, user, admin...),
and shared: an identity whose month is unlike one person's (in far more
conversations than the account's 99.9th percentile and at least 50, or
writing in 10 conversations within 5 minutes). --lint-only lists only the
identities with findings.

The table shows the findings; CSV lists every billed identity, one row each
(month, service_sid, identity, shape, random, reason, one_shot,
duplicate_group, status, avoidable, lint); JSON ("schema":
"mauledger.identities/v1") has both, with each identity's lint findings
(code, severity, reason, fix).`,
		Example: `  mauledger identities --month 2026-10
  mauledger identities --from 2026-05 --to 2026-10 --format json --out identities.json
  mauledger identities --month 2026-10 --service IS0123456789abcdef0123456789abcdef --window 1h
  mauledger identities --month 2026-10 --format csv --redact > identities.csv
  mauledger identities --month 2026-10 --lint-only`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context()) },
	}
	cmd.Flags().StringVar(&o.Month, "month", "", "the month, YYYY-MM (UTC)")
	cmd.Flags().StringVar(&o.From, "from", "", "first month of a range, YYYY-MM")
	cmd.Flags().StringVar(&o.To, "to", "", "last month of a range, YYYY-MM")
	cmd.Flags().StringVar(&o.Service, "service", "", "only this Conversation Service (IS...)")
	cmd.Flags().DurationVar(&o.Window, "window", analysis.DefaultOneShotWindow, "a one-shot identity's activity all fits in this span, e.g. 1h, 24h, 72h")
	cmd.Flags().BoolVar(&o.LintOnly, "lint-only", false, "list only the identities with lint findings, with the months' lint")
	o.settings.bind(cmd)
	o.output.bind(cmd, "table, csv, json or html (default: from --out's extension, else table)")
	return cmd
}

func (o *identitiesOptions) run(ctx context.Context) error {
	r, err := monthRange(o.Month, o.From, o.To)
	if err != nil {
		return err
	}
	if o.Window <= 0 {
		return fail.Usagef("--window %s: want a positive duration, e.g. 24h", o.Window)
	}
	settings, err := o.settings.settings()
	if err != nil {
		return err
	}
	format, err := o.output.resolve(o.io)
	if err != nil {
		return err
	}
	if format == reports.XLSX || format == reports.Parquet {
		return fail.Usagef("identities writes table, csv, json or html; the XLSX report (report --out FILE.xlsx) has the hygiene sheets")
	}
	return o.global.analyze(ctx, settings, func(store *ingest.Store, a *analysis.Analyzer) error {
		ids, err := a.Identities(ctx, r, analysis.HygieneOptions{
			OneShotWindow: o.Window, ServiceSID: o.Service, ListSubjects: format != reports.Table || o.LintOnly, LintOnly: o.LintOnly})
		if err != nil {
			return err
		}
		redactFn, err := o.output.redactor(ctx, store)
		if err != nil {
			return err
		}
		return o.output.write(o.io, func(w io.Writer) error {
			return reports.WriteIdentities(w, ids, reports.Options{Format: format, Redact: redactFn})
		})
	})
}
