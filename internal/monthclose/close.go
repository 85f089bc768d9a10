// Package monthclose closes a month unattended. It loads the sources a
// config names, as the ingest commands do, brings the ledger up to date,
// and writes the month's reports as a new version that is never
// overwritten, with a manifest saying what the version was made from. A run
// that would write nothing new writes nothing; one that would says what it
// restates. It is safe to schedule: one close at a time per output folder,
// and every step can be interrupted and run again.
package monthclose

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/mauledger/mauledger/analysis"
	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/fail"
	"github.com/mauledger/mauledger/internal/redact"
)

// Job is one close: the month, what to load, how to count, what to write.
type Job struct {
	Month    analysis.Month
	Database string
	// Twilio, when not nil, pulls the REST API first (ingest twilio).
	Twilio *ingest.TwilioOptions
	// Spool is serve's spool folder (ingest events --spool), if any.
	Spool string
	// Events and Tokens are file patterns (ingest events, ingest tokens).
	Events, Tokens []string
	// Settings are how to count and price, and how long after the month's
	// end a complete month stays preliminary (FinalAfter).
	Settings analysis.Settings
	// OutDir holds a folder per month, a folder per version in it.
	OutDir string
	// Formats are the outputs besides billed.csv and manifest.json, among
	// config.Formats.
	Formats []string
	Redact  bool
	// Healthcheck is a healthchecks.io-style ping URL; empty for none.
	Healthcheck string
	// Version is mauledger's version, for the manifest.
	Version string
	Log     *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Status says whether a version's figures may still change.
type Status string

const (
	// Preliminary: the month's coverage is not complete yet, or the grace
	// period after its end has not passed; late data may still change it.
	Preliminary Status = analysis.StatusPreliminary
	// Final: complete coverage and the grace period passed.
	Final Status = analysis.StatusFinal
)

// Result is what a close did.
type Result struct {
	Month string `json:"month"`
	// Version is the version written, or the latest one when unchanged.
	Version int    `json:"version"`
	Dir     string `json:"dir"`
	Status  Status `json:"status"`
	// Written is false when nothing that feeds the month changed.
	Written bool `json:"written"`
	// Restates is the version this one replaces, nil for a first version
	// or an unchanged month.
	Restates *Restated `json:"restates"`
	// Rejected counts the input lines the loads rejected.
	Rejected    int           `json:"rejected_lines"`
	ActiveUsers int           `json:"active_users"`
	Cost        analysis.Cost `json:"cost"`
}

// Restated is the earlier version a new one replaces, and how it differs.
type Restated struct {
	Version     int    `json:"version"`
	Status      Status `json:"status"`
	ActiveUsers int    `json:"active_users"`
	Added       int    `json:"added"`
	Removed     int    `json:"removed"`
}

// RestatesFinal says whether the close replaced a version that was final.
func (r Result) RestatesFinal() bool { return r.Restates != nil && r.Restates.Status == Final }

// ErrNotOver refuses to close a month that has not ended.
var ErrNotOver = errors.New("the month is not over")

// ErrNoEvidence refuses to close a month no stored evidence is dated in.
var ErrNoEvidence = errors.New("no evidence is dated in the month")

// LastFullMonth is the latest month that has ended at now, in UTC.
func LastFullMonth(now time.Time) analysis.Month {
	return analysis.MonthOf(analysis.MonthOf(now.UTC()).Start().Add(-time.Nanosecond))
}

// Run closes the month. It takes the output folder's lock first, pings
// the healthcheck, loads every source, refreshes the ledger, and writes a
// new version unless the month is unchanged.
func Run(ctx context.Context, job Job) (res Result, err error) {
	if job.Now == nil {
		job.Now = time.Now
	}
	if job.Log == nil {
		job.Log = slog.New(slog.DiscardHandler)
	}
	started := job.Now().UTC()
	if started.Before(job.Month.End()) {
		return res, fail.Usage(fmt.Errorf("close %s: %w: it ends %s; the last full month is %s",
			job.Month, ErrNotOver, job.Month.End().Format(time.DateOnly), LastFullMonth(started)))
	}
	if err := os.MkdirAll(job.OutDir, 0o755); err != nil {
		return res, fail.Input(fmt.Errorf("output folder %s: %w", job.OutDir, err))
	}
	lock, err := takeLock(job.OutDir, started, job.Log)
	if err != nil {
		return res, err
	}
	defer lock.release()

	runID := uuid.NewString()
	ping := newPinger(job.Healthcheck, runID, job.Log)
	ping.send(ctx, pingStart, fmt.Sprintf("close %s started", job.Month))
	defer func() { ping.result(res, err) }()

	c := &closer{job: job, runID: runID, started: started, log: job.Log.With("month", job.Month.String())}
	return c.run(ctx)
}

// closer is one run of a Job.
type closer struct {
	job     Job
	runID   string
	started time.Time
	log     *slog.Logger
	store   *ingest.Store
	loaded  []Load
}

func (c *closer) run(ctx context.Context) (Result, error) {
	store, err := ingest.Open(ctx, c.job.Database)
	if err != nil {
		return Result{}, fail.Store(err)
	}
	defer store.Close()
	c.store = store
	rejected, err := c.load(ctx)
	if err != nil {
		return Result{}, err
	}
	took := time.Now()
	st, err := analysis.Refresh(ctx, store.DB)
	if err != nil {
		return Result{}, fail.Store(err)
	}
	c.log.Info("ledger", "rebuilt", st.Rebuilt, "activities", st.Rows, "took", since(took))

	a, err := analysis.New(ctx, store.DB, c.job.Settings)
	if err != nil {
		return Result{}, err
	}
	defer a.Close() // the billed subjects stream from it while the version is written
	v, err := c.compute(ctx, a)
	if err != nil {
		return Result{}, err
	}
	res, err := c.publish(ctx, v)
	res.Rejected = rejected
	return res, err
}

// Load is what one step loaded, as the manifest records it.
type Load struct {
	Step  string `json:"step"`
	Input string `json:"input,omitempty"`
	// Items counts what the input held: events, token lines, or for
	// ingest twilio the users, conversations, participants and messages.
	Items      int64 `json:"items"`
	Loaded     int64 `json:"loaded"`
	Duplicates int64 `json:"duplicates"`
	Ignored    int64 `json:"ignored"`
	Rejected   int   `json:"rejected"`
	// Twilio is ingest twilio's own account of its pull.
	Twilio *TwilioLoad `json:"twilio,omitempty"`
}

// TwilioLoad is what one ingest twilio step pulled.
type TwilioLoad struct {
	Mode          string `json:"mode"` // changes, full or resumed
	Users         int64  `json:"users"`
	Conversations int64  `json:"conversations"`
	Participants  int64  `json:"participants"`
	Messages      int64  `json:"messages"`
	UsageRecords  int64  `json:"usage_records"`
	Requests      int64  `json:"requests"`
}

// load runs the steps the job names, in order, and returns the number of
// rejected input lines. A rejected line stops nothing: it is logged,
// counted in the manifest, and the close goes on with the good ones.
func (c *closer) load(ctx context.Context) (int, error) {
	if c.job.Twilio != nil {
		if err := c.pullTwilio(ctx); err != nil {
			return 0, err
		}
	}
	if c.job.Spool != "" {
		if err := c.loadSpool(ctx); err != nil {
			return 0, err
		}
	}
	events, err := expand("sources.events", c.job.Events, c.log, true)
	if err != nil {
		return 0, err
	}
	skipped := 0
	for _, name := range events {
		loaded, err := c.loadEvents(ctx, name)
		if err != nil {
			return 0, err
		}
		if !loaded {
			skipped++
		}
	}
	if skipped > 0 {
		c.log.Info("ingest events", "already_loaded_files", skipped)
	}
	tokens, err := expand("sources.tokens", c.job.Tokens, c.log, false)
	if err != nil {
		return 0, err
	}
	for _, name := range tokens {
		if err := c.loadTokens(ctx, name); err != nil {
			return 0, err
		}
	}
	rejected := 0
	for _, l := range c.loaded {
		rejected += l.Rejected
	}
	return rejected, nil
}

func (c *closer) pullTwilio(ctx context.Context) error {
	took := time.Now()
	res, err := ingest.NewTwilioPull(c.store, *c.job.Twilio).Run(ctx)
	if err != nil {
		return err // the command gives ingest twilio's errors their exit codes
	}
	mode := "changes"
	switch {
	case res.Full:
		mode = "full"
	case res.Resumed:
		mode = "resumed"
	}
	t := &TwilioLoad{Mode: mode, Users: res.Users, Conversations: res.Conversations, Participants: res.Participants,
		Messages: res.Messages, UsageRecords: res.UsageRecords, Requests: res.Requests}
	c.loaded = append(c.loaded, Load{Step: "ingest twilio", Items: t.Users + t.Conversations + t.Participants + t.Messages, Twilio: t})
	c.log.Info("ingest twilio", "mode", mode, "users", t.Users, "conversations", t.Conversations,
		"participants", t.Participants, "messages", t.Messages, "requests", t.Requests, "took", since(took))
	return nil
}

func (c *closer) loadSpool(ctx context.Context) error {
	if info, err := os.Stat(c.job.Spool); err != nil || !info.IsDir() {
		return fail.Input(fmt.Errorf("spool %s: not a directory", c.job.Spool))
	}
	took := time.Now()
	loads, err := c.store.LoadSpool(ctx, c.job.Spool)
	for _, l := range loads {
		c.recordEvents("ingest events --spool", l.EventsResult)
		if l.TornBytes > 0 {
			c.log.Warn("skipped a torn last line: a crash cut its write short, before serve acknowledged it",
				"segment", l.Name, "bytes", l.TornBytes)
		}
	}
	if errors.Is(err, ingest.ErrSegmentEdited) {
		return fail.Input(err)
	}
	if err != nil {
		return err
	}
	if len(loads) == 0 {
		c.log.Info("ingest events --spool", "spool", c.job.Spool, "segments", 0, "took", since(took))
	}
	return nil
}

// loadEvents loads one events file as ingest events does, and says
// whether it was read: a file already loaded is not.
func (c *closer) loadEvents(ctx context.Context, name string) (bool, error) {
	res, err := c.store.LoadEventFile(ctx, name, false)
	var pathErr *os.PathError
	if errors.As(err, &pathErr) {
		return false, fail.Input(err)
	}
	if err != nil {
		return false, fmt.Errorf("load %s: %w", name, err)
	}
	if res.AlreadyLoaded {
		return false, nil
	}
	c.recordEvents("ingest events", res.EventsResult)
	return true, nil
}

// recordEvents logs one input's load, one line, and its rejected lines.
func (c *closer) recordEvents(step string, r ingest.EventsResult) {
	c.loaded = append(c.loaded, Load{Step: step, Input: r.Name, Items: r.Events, Loaded: r.Loaded,
		Duplicates: r.Duplicates, Ignored: r.Ignored, Rejected: len(r.Rejected)})
	c.log.Info(step, "input", r.Name, "events", r.Events, "loaded", r.Loaded, "duplicates", r.Duplicates,
		"ignored", r.Ignored, "rejected", len(r.Rejected))
	c.logRejections(r.Name, r.Rejected)
}

func (c *closer) loadTokens(ctx context.Context, name string) error {
	f, err := os.Open(name)
	if err != nil {
		return fail.Input(err)
	}
	defer f.Close()
	res, err := c.store.LoadTokens(ctx, name, f)
	if errors.Is(err, ingest.ErrTokenLog) {
		return fail.Input(err)
	}
	if err != nil {
		return err
	}
	c.loaded = append(c.loaded, Load{Step: "ingest tokens", Input: name, Items: res.Tokens, Loaded: res.Loaded,
		Duplicates: res.Duplicates, Rejected: len(res.Rejected)})
	c.log.Info("ingest tokens", "input", name, "tokens", res.Tokens, "loaded", res.Loaded,
		"duplicates", res.Duplicates, "rejected", len(res.Rejected))
	c.logRejections(name, res.Rejected)
	return nil
}

// maxRejectionsLogged bounds the rejected lines logged per input, as
// ingest prints them.
const maxRejectionsLogged = 50

func (c *closer) logRejections(input string, rejected []ingest.Rejection) {
	for i, r := range rejected {
		if i == maxRejectionsLogged {
			c.log.Warn("more rejected lines", "input", input, "count", len(rejected)-i)
			return
		}
		c.log.Warn("rejected line", "input", input, "line", r.Line, "reason", r.Reason)
	}
}

// expand turns the patterns into the files they match, in name order,
// each once; with dirs, a matching directory gives the files under it as
// ingest events lists them (an archive folder). A pattern that matches
// nothing is a warning: a scheduled job's drop folder is often empty.
func expand(key string, patterns []string, log *slog.Logger, dirs bool) ([]string, error) {
	var files []string
	seen := map[string]bool{}
	for _, p := range patterns {
		matches, err := filepath.Glob(p)
		if err != nil {
			return nil, fail.Usage(fmt.Errorf("%s %q: %w", key, p, err))
		}
		if len(matches) == 0 {
			log.Warn("no file matches", "pattern", p, "key", key)
		}
		for _, m := range matches {
			info, err := os.Stat(m)
			if err != nil {
				continue
			}
			found := []string{m}
			switch {
			case info.IsDir() && dirs:
				if found, err = ingest.EventFiles(m); err != nil {
					return nil, fail.Input(fmt.Errorf("%s %q: %w", key, p, err))
				}
			case !info.Mode().IsRegular():
				continue
			}
			for _, f := range found {
				if !seen[f] {
					seen[f] = true
					files = append(files, f)
				}
			}
		}
	}
	return files, nil
}

// computed is the month's result, before it is compared with the latest
// version and written.
type computed struct {
	report     *analysis.Report
	month      analysis.MonthReport
	identities *analysis.Identities
	status     Status
	redact     func(string) string
	state      ingest.State
}

func (c *closer) compute(ctx context.Context, a *analysis.Analyzer) (*computed, error) {
	months := analysis.MonthRange{From: c.job.Month, To: c.job.Month}
	rep, err := a.Report(ctx, months, analysis.ReportOptions{StreamBilled: true, Now: c.started})
	if err != nil {
		return nil, err
	}
	v := &computed{report: rep, month: rep.Months[0]}
	if !hasEvidence(v.month.Coverage) {
		return nil, fail.Usage(fmt.Errorf("close %s: %w: load its events first (or name them in the config's sources)", c.job.Month, ErrNoEvidence))
	}
	if c.wants("identities-csv") || c.wants("identities-json") || c.wants("identities-html") {
		if v.identities, err = a.Identities(ctx, months, analysis.DefaultHygieneOptions()); err != nil {
			return nil, err
		}
	}
	v.status = Status(v.month.Status)
	if c.job.Redact {
		key, err := c.store.Setting(ctx, "redaction_key")
		if err != nil {
			return nil, err
		}
		v.redact = redact.New(key)
	}
	if v.state, err = c.store.State(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

func (c *closer) wants(format string) bool { return slices.Contains(c.job.Formats, format) }

// hasEvidence says whether any source has something dated in the month.
func hasEvidence(cov analysis.Coverage) bool {
	for _, s := range cov.Sources {
		if s.Events > 0 {
			return true
		}
	}
	return false
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }

// Summary is the one line that says what a close did.
func Summary(r Result) string {
	if !r.Written {
		return fmt.Sprintf("%s unchanged: v%d", r.Month, r.Version)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s v%d written, %s: MAU %d, cost %.2f %s", r.Month, r.Version, r.Status, r.ActiveUsers, r.Cost.Total, r.Cost.Currency)
	if p := r.Restates; p != nil {
		restates := "restates"
		if r.RestatesFinal() {
			restates = "RESTATES THE FINAL"
		}
		fmt.Fprintf(&b, "; %s v%d (MAU %d; %d subjects added, %d removed)", restates, p.Version, p.ActiveUsers, p.Added, p.Removed)
	}
	if r.Rejected > 0 {
		fmt.Fprintf(&b, "; %d input lines rejected", r.Rejected)
	}
	fmt.Fprintf(&b, "; %s", r.Dir)
	return b.String()
}
