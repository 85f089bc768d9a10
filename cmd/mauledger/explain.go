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

type explainOptions struct {
	io      *streams
	global  *globalOptions
	Subject string
	Month   string
	Service string
	// Only --evidence and --unknown-authors of the settings: explain states
	// the others' defaults.
	settings settingsOptions
	output   outputOptions
}

func newExplainCmd(io *streams, g *globalOptions) *cobra.Command {
	o := &explainOptions{io: io, global: g}
	cmd := &cobra.Command{
		Use:   "explain SUBJECT --month YYYY-MM",
		Short: "Why an identity or address is (or is not) billed in a month",
		Long: `Explain whether an identity (e.g. alice@example.com) or an address (e.g.
+15551234567, whatsapp:+447700900123) is billed in a month, listing every
qualifying activity behind it: rule, time, source and evidence SID. For a
subject that is not billed, say what was seen of it instead.`,
		Example: `  mauledger explain alice@example.com --month 2026-10
  mauledger explain +15551234567 --month 2026-10 --service IS0123456789abcdef0123456789abcdef
  mauledger explain user_42 --month 2026-10 --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Subject = args[0]
			return o.run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&o.Month, "month", "", "the month, YYYY-MM (UTC)")
	cmd.Flags().StringVar(&o.Service, "service", "", "only this Conversation Service (IS...)")
	o.settings.bindBilled(cmd)
	o.output.bind(cmd, "table, csv or json (default: table)")
	return cmd
}

func (o *explainOptions) run(ctx context.Context) error {
	if o.Month == "" {
		return fail.Usagef("explain needs --month YYYY-MM")
	}
	r, err := monthRange(o.Month, "", "")
	if err != nil {
		return err
	}
	format, err := o.output.resolve(o.io)
	if err != nil {
		return err
	}
	if format == reports.XLSX || format == reports.HTML || format == reports.Parquet {
		return fail.Usagef("explain writes table, csv or json, not %s", format)
	}
	settings := analysis.DefaultSettings()
	if err := o.settings.billed(&settings); err != nil {
		return err
	}
	return o.global.analyze(ctx, settings, func(store *ingest.Store, a *analysis.Analyzer) error {
		e, err := a.Explain(ctx, o.Subject, r.From, o.Service)
		if err != nil {
			return err
		}
		redactFn, err := o.output.redactor(ctx, store)
		if err != nil {
			return err
		}
		return o.output.write(o.io, func(w io.Writer) error {
			return reports.WriteExplanation(w, e, reports.Options{Format: format, Redact: redactFn})
		})
	})
}
