package analysis

import (
	"cmp"
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"math"
	"slices"
	"time"
)

var (
	//go:embed coverage.sql
	coverageSQL string
	//go:embed coverage_inputs.sql
	coverageInputsSQL string
)

// MaxLiveGap is the longest stretch without any live event that a complete
// month may have: Event Streams queues events for up to 4 hours while its
// sink is down, so after a longer outage some may be lost.
const MaxLiveGap = 4 * time.Hour

// maxGapsListed bounds the gaps a month lists, longest first; GapCount
// counts them all.
const maxGapsListed = 20

// CoverageSources are the evidence sources a Coverage has an entry for, in
// its order.
var CoverageSources = []string{"webhook", "event_stream", "rest_snapshot", "token_log"}

// newCoverage is the coverage of a month without any evidence: every
// source with zero events, every list empty rather than nil.
func newCoverage() *Coverage {
	c := &Coverage{Snapshots: []Snapshot{}, Gaps: []Gap{}, Reasons: []string{}}
	for _, s := range CoverageSources {
		c.Sources = append(c.Sources, SourceCoverage{Source: s})
	}
	return c
}

// complete is the one rule that makes a month complete: no reason against it.
func (c *Coverage) complete() bool { return len(c.Reasons) == 0 }

// liveEvents counts the month's live events: webhooks and Event Streams.
func (c *Coverage) liveEvents() int {
	return c.source("webhook").Events + c.source("event_stream").Events
}

// source is c's entry for source s.
func (c *Coverage) source(s string) *SourceCoverage {
	i := slices.Index(CoverageSources, s)
	if i < 0 {
		return nil
	}
	return &c.Sources[i]
}

// fillCoverage states every month's coverage and judges by it whether the
// month is complete.
func (a *Analyzer) fillCoverage(ctx context.Context, r MonthRange, months map[string]*MonthReport, now time.Time) error {
	cov, err := a.coverage(ctx, r, now)
	if err != nil {
		return err
	}
	for month, c := range cov {
		if m := months[month]; m != nil {
			m.Coverage, m.Complete = *c, c.complete()
		}
	}
	return nil
}

// coverage reads coverage.sql for the months of r, as of now (the month
// under way is covered up to now), and judges each month: its Reasons say
// why it is not complete. The result has an entry for every month of r.
func (a *Analyzer) coverage(ctx context.Context, r MonthRange, now time.Time) (map[string]*Coverage, error) {
	now = now.UTC()
	type judging struct {
		month      Month
		cov        *Coverage
		gaps       []Gap
		after      bool       // a finished snapshot started after the month
		unfinished *time.Time // an unfinished run started after the month
	}
	months := map[string]*judging{}
	for _, m := range r.Months() {
		months[m.String()] = &judging{month: m, cov: newCoverage()}
	}
	err := a.eachRow(ctx, "measure coverage", coverageSQL, func(rows *sql.Rows) error {
		var (
			month, kind, source string
			n                   int
			first, last         *time.Time
		)
		if err := rows.Scan(&month, &kind, &source, &n, &first, &last); err != nil {
			return err
		}
		j := months[month]
		if j == nil || first == nil {
			return nil
		}
		switch kind {
		case "span":
			if s := j.cov.source(source); s != nil {
				s.Events, s.First, s.Last = n, utc(first), utc(last)
			}
		case "gap":
			if last != nil {
				j.gaps = append(j.gaps, newGap(*first, *last))
			}
		case "snapshot":
			after := !first.Before(j.month.End())
			switch {
			case last == nil && after && j.unfinished == nil:
				j.unfinished = utc(first)
			case last != nil && (!after || !j.after):
				j.cov.Snapshots = append(j.cov.Snapshots, Snapshot{StartedAt: first.UTC(), FinishedAt: last.UTC()})
				j.after = j.after || after
			}
		}
		return nil
	}, sql.Named("start", r.From.Start()), sql.Named("end", r.To.End()), sql.Named("now", now),
		sql.Named("gap_us", MaxLiveGap.Microseconds()))
	if err != nil {
		return nil, err
	}
	out := make(map[string]*Coverage, len(months))
	for month, j := range months {
		c := j.cov
		slices.SortFunc(j.gaps, func(x, y Gap) int {
			return cmp.Or(cmp.Compare(y.To.Sub(y.From), x.To.Sub(x.From)), x.From.Compare(y.From))
		})
		c.GapCount = len(j.gaps)
		c.Gaps = append(c.Gaps, j.gaps[:min(len(j.gaps), maxGapsListed)]...)
		c.Reasons = coverageReasons(c, j.month, now, j.after, j.unfinished)
		out[month] = c
	}
	return out, nil
}

// coverageReasons says why a month with coverage c is not complete: live
// capture first, then the REST snapshot. None when it is complete.
func coverageReasons(c *Coverage, m Month, now time.Time, snapshotAfter bool, unfinished *time.Time) []string {
	reasons := []string{}
	limit := fmt.Sprintf("%g h", MaxLiveGap.Hours())
	switch live := c.liveEvents(); {
	case live == 0:
		reasons = append(reasons, "no live events (webhooks or Event Streams)")
	case c.GapCount == 1:
		g := c.Gaps[0]
		reasons = append(reasons, fmt.Sprintf("live capture has 1 gap longer than %s: %s from %s",
			limit, g.Length(), coverageTime(g.From)))
	case c.GapCount > 1:
		g := c.Gaps[0]
		reasons = append(reasons, fmt.Sprintf("live capture has %d gaps longer than %s, the longest %s from %s",
			c.GapCount, limit, g.Length(), coverageTime(g.From)))
	}
	switch {
	case snapshotAfter:
	case now.Before(m.End()):
		reasons = append(reasons, "the month is not over: it needs a REST snapshot taken after it ends (`mauledger ingest twilio`)")
	case unfinished != nil:
		reasons = append(reasons, fmt.Sprintf("the `mauledger ingest twilio` run started %s, after the month ended, "+
			"did not finish: run it again to resume it", coverageTime(*unfinished)))
	default:
		reasons = append(reasons, "no REST snapshot taken after the month ended: run `mauledger ingest twilio`")
	}
	return reasons
}

func newGap(from, to time.Time) Gap {
	return Gap{From: from.UTC(), To: to.UTC(), Hours: math.Round(to.Sub(from).Hours()*100) / 100}
}

// Length writes how long the gap is as "9 h 12 m", rounded to the minute.
func (g Gap) Length() string {
	d := g.To.Sub(g.From).Round(time.Minute)
	return fmt.Sprintf("%d h %d m", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// coverageTime is how coverage reasons write an instant: minutes, UTC.
func coverageTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
