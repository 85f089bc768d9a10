package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/mauledger/mauledger/analysis"
	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/fail"
	"github.com/mauledger/mauledger/reports"
)

type reconcileOptions struct {
	io       *streams
	global   *globalOptions
	Month    string
	settings settingsOptions
	output   outputOptions
}

func newReconcileCmd(io *streams, g *globalOptions) *cobra.Command {
	o := &reconcileOptions{io: io, global: g}
	cmd := &cobra.Command{
		Use:   "reconcile --month YYYY-MM",
		Short: "mauledger's MAU beside Twilio's usage records, the difference and its likely causes",
		Long: `Set mauledger's monthly active users for a month beside the counts of
Twilio's monthly usage records (categories conversations*, pulled by
"ingest twilio"), show the difference, and list its likely causes: a month
whose coverage is incomplete (a lower bound), service vs account scope,
subjects billed on inferred evidence, messages by unknown authors.

Twilio's MAU is the count of the "conversations" usage record.`,
		Example: `  mauledger reconcile --month 2026-10
  mauledger reconcile --month 2026-10 --scope account --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context()) },
	}
	cmd.Flags().StringVar(&o.Month, "month", "", "the month, YYYY-MM (UTC)")
	// Scope and evidence change the count; prices do not.
	o.settings.bindScope(cmd)
	o.settings.bindBilled(cmd)
	cmd.Flags().StringVar(&o.output.Format, "format", "", "table, csv or json (default: from --out's extension, else table)")
	cmd.Flags().StringVarP(&o.output.Out, "out", "o", "", "write to this file (whole or not at all) instead of stdout")
	return cmd
}

func (o *reconcileOptions) run(ctx context.Context) error {
	if o.Month == "" {
		return fail.Usagef("reconcile needs --month YYYY-MM")
	}
	r, err := monthRange(o.Month, "", "")
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
	if format == reports.XLSX || format == reports.HTML || format == reports.Parquet {
		return fail.Usagef("reconcile writes table, csv or json, not %s", format)
	}
	return o.global.analyze(ctx, settings, func(_ *ingest.Store, a *analysis.Analyzer) error {
		rec, err := a.Reconcile(ctx, r.From)
		if err != nil {
			return err
		}
		return o.output.write(o.io, func(w io.Writer) error {
			return reports.WriteReconciliation(w, rec, reports.Options{Format: format})
		})
	})
}
