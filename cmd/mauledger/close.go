package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mauledger/mauledger/analysis"
	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/config"
	"github.com/mauledger/mauledger/internal/fail"
	"github.com/mauledger/mauledger/internal/monthclose"
)

type closeOptions struct {
	io     *streams
	global *globalOptions
	Month  string
	Config string
	DryRun bool
	Format string
}

func newCloseCmd(io *streams, g *globalOptions) *cobra.Command {
	o := &closeOptions{io: io, global: g}
	cmd := &cobra.Command{
		Use:   "close [--month YYYY-MM] [--config FILE]",
		Short: "Close a month unattended: load the sources, write a new version of its reports if anything changed",
		Long: `Close a month (--month, else the config's month, else the last full UTC
month) as a config file says
(--config, else $MAULEDGER_CONFIG, else ./mauledger.yaml; see "mauledger config
example"). In order: ingest twilio, ingest events --spool, ingest events of
the file patterns, ingest tokens (whichever the config names), the ledger,
then the month's reports into OUT/YYYY-MM/vN/ with manifest.json, and
OUT/YYYY-MM/latest pointing at the newest version. A version is never
overwritten.

When nothing that feeds the month changed, no version is written: the run
prints "YYYY-MM unchanged: vN". Otherwise it writes v(N+1) with
restatement.json and restatement.csv: the subjects added and removed, each
with its activity, and the MAU and cost before and after.

A version is preliminary until the month's coverage is complete and
final_after (48h by default) has passed since the month ended; then final.
Exit codes: 0 a final version written, or nothing changed; 6 a preliminary
version written; 7 a final month restated; 4 another close holds the
output folder's lock (a lock left by a killed close is taken over); the
other codes as for every command. One log line per step on stderr, then a
summary line on stdout.`,
		Example: `  mauledger close
  mauledger close --month 2026-10 --config /etc/mauledger/mauledger.yaml
  mauledger close --dry-run
  mauledger close --format json --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context()) },
	}
	cmd.Flags().StringVar(&o.Month, "month", "", "the month to close, YYYY-MM (default: the last full UTC month)")
	cmd.Flags().StringVar(&o.Config, "config", "", "config file (default $MAULEDGER_CONFIG, else ./"+config.DefaultFile+")")
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "check the config and print what the close would do, touching nothing")
	cmd.Flags().StringVar(&o.Format, "format", "text", "the summary on stdout: text (one line) or json")
	return cmd
}

func (o *closeOptions) run(ctx context.Context) error {
	if o.Format != "text" && o.Format != "json" {
		return fail.Usagef("--format %q: want text or json", o.Format)
	}
	cfg, err := loadConfig(o.Config)
	if err != nil {
		return err
	}
	job, err := o.job(cfg)
	if err != nil {
		return err
	}
	if o.DryRun {
		o.printPlan(cfg, job)
		return nil
	}
	res, err := monthclose.Run(ctx, job)
	if err != nil {
		return twilioError(err)
	}
	if o.Format == "json" {
		enc := json.NewEncoder(o.io.Out)
		err = enc.Encode(res)
	} else {
		_, err = fmt.Fprintln(o.io.Out, monthclose.Summary(res))
	}
	if err != nil {
		return err
	}
	switch {
	case res.RestatesFinal():
		return &fail.Status{Code: fail.CodeRestatedFinal}
	case res.Written && res.Status == monthclose.Preliminary:
		return &fail.Status{Code: fail.CodePreliminary}
	}
	return nil
}

// loadConfig reads the config file that --config, $MAULEDGER_CONFIG or the
// default names: a missing file is exit 3, a bad key or value exit 2.
func loadConfig(flag string) (*config.Config, error) {
	path := config.Find(flag)
	cfg, err := config.Load(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, fail.Input(fmt.Errorf("config %s: no such file (`mauledger config example > %s` writes one)", path, config.DefaultFile))
	case errors.Is(err, config.ErrInvalid):
		return nil, fail.Usage(err)
	case err != nil:
		return nil, fail.Input(fmt.Errorf("config %s: %w", path, unwrapPathError(err)))
	}
	return cfg, nil
}

// job turns the config and flags into a close. The database is --db, else
// the config's, else $MAULEDGER_DB, else the default.
func (o *closeOptions) job(cfg *config.Config) (monthclose.Job, error) {
	now := time.Now()
	month := monthclose.LastFullMonth(now)
	if name := cmp.Or(o.Month, cfg.Month); name != "" {
		m, err := analysis.ParseMonth(name)
		if err != nil {
			return monthclose.Job{}, fail.Usage(err)
		}
		month = m
	}
	s := settingsOptions{Scope: cfg.Settings.Scope, Evidence: cfg.Settings.Evidence,
		UnknownAuthors: cfg.Settings.UnknownAuthors, Prices: cfg.Settings.Prices}
	settings, err := s.settings()
	if err != nil {
		return monthclose.Job{}, err
	}
	settings.FinalAfter = cfg.FinalAfter.Duration
	db := o.global.DB
	if db == "" {
		db = cfg.Database
	}
	if db == "" {
		db = o.global.dbPath()
	}
	log := o.global.logger(o.io.Err)
	job := monthclose.Job{
		Month: month, Database: db, Spool: cfg.Sources.Spool, Events: cfg.Sources.Events, Tokens: cfg.Sources.Tokens,
		Settings: settings, OutDir: cfg.Output.Dir, Formats: cfg.Output.Formats, Redact: cfg.Output.Redact,
		Healthcheck: cfg.Healthcheck, Version: buildVersion(), Log: log,
	}
	if t := cfg.Sources.Twilio; t.Enabled {
		creds, err := ingest.TwilioCredentialsFromEnv()
		if err != nil {
			return job, fail.Auth(err)
		}
		job.Twilio = &ingest.TwilioOptions{Credentials: creds, Services: t.Services, Concurrency: t.Concurrency, BaseURL: t.BaseURL, Log: log}
	}
	return job, nil
}

// printPlan says what the close would do; the healthcheck by its host
// only, as its path is a secret.
func (o *closeOptions) printPlan(cfg *config.Config, job monthclose.Job) {
	w := o.io.Out
	fmt.Fprintf(w, "config:     %s\nmonth:      %s\ndatabase:   %s\n", cfg.Path, job.Month, job.Database)
	var steps []string
	if job.Twilio != nil {
		steps = append(steps, "ingest twilio")
	}
	if job.Spool != "" {
		steps = append(steps, "ingest events --spool "+job.Spool)
	}
	for _, p := range job.Events {
		steps = append(steps, "ingest events "+p)
	}
	for _, p := range job.Tokens {
		steps = append(steps, "ingest tokens "+p)
	}
	if len(steps) == 0 {
		steps = append(steps, "none (only what the database holds)")
	}
	fmt.Fprintf(w, "sources:    %s\n", strings.Join(steps, "; "))
	fmt.Fprintf(w, "settings:   scope %s, evidence %s, unknown authors %s, prices %s\n",
		job.Settings.Scope, job.Settings.Evidence, job.Settings.UnknownAuthors, job.Settings.Prices.Name)
	fmt.Fprintf(w, "output:     %s/%s/vN: %s, billed.csv, manifest.json (redact: %t)\n",
		job.OutDir, job.Month, strings.Join(job.Formats, ", "), job.Redact)
	fmt.Fprintf(w, "final:      when complete and %s after the month's end\n", job.Settings.FinalAfter)
	if u, err := url.Parse(job.Healthcheck); err == nil && job.Healthcheck != "" {
		fmt.Fprintf(w, "healthcheck: %s\n", u.Host)
	}
}

func newConfigCmd(io *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "config",
		Short:   "Check or write the config file of mauledger close",
		Example: "  mauledger config example > mauledger.yaml\n  mauledger config check mauledger.yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return fail.Usagef("config needs a subcommand: check or example")
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "check [FILE]",
		Short: "Check a config file: every key known, every value usable (exit 2 naming the key otherwise)",
		Example: `  mauledger config check
  mauledger config check /etc/mauledger/mauledger.yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(strings.Join(args, ""))
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(io.Out, "%s: ok\n", cfg.Path)
			return err
		},
	}, &cobra.Command{
		Use:     "example",
		Short:   "Print a commented config file with every key and its default",
		Example: "  mauledger config example > mauledger.yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprint(io.Out, config.Example())
			return err
		},
	})
	return cmd
}
