package analysis_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mauledger/mauledger/analysis"
	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/twiliofake"
)

var october = analysis.Month{Year: 2026, Month: 10}

// liveEvents returns one live event at each time: a webhook (an SDK message,
// received then) or, with cloudEvents, an Event Streams message.added as
// Twilio sends it (no service, Source or ClientIdentity in data).
func liveEvents(cloudEvents bool, times ...time.Time) []string {
	var lines []string
	for _, t := range times {
		at := t.UTC().Format(time.RFC3339)
		sid := fmt.Sprintf("IM%032x", t.Unix())
		if !cloudEvents {
			lines = append(lines, ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "alice", "Author", "alice",
				"MessageSid", sid, "DateCreated", at, "_received_at", at))
			continue
		}
		lines = append(lines, fmt.Sprintf(`{"specversion":"1.0","type":"com.twilio.conversations.message.added",`+
			`"source":"AB00000000000000000000000000000001","id":"EZ%032x",`+
			`"dataschema":"https://events-schemas.twilio.com/Conversations.MessageAdded/2",`+
			`"datacontenttype":"application/json","time":%q,"data":{"AccountSid":"AC1","ConversationSid":"CH1",`+
			`"MessageSid":%q,"Index":0,"Author":"alice","ParticipantSid":null,"MessageBody":"hi","DateCreated":%q}}`,
			t.Unix(), at, sid, at))
	}
	return lines
}

// every lists the instants from from (inclusive) to to (exclusive), step
// apart, except those in the holes [start, end).
func every(from, to time.Time, step time.Duration, holes ...[2]time.Time) []time.Time {
	var out []time.Time
next:
	for t := from; t.Before(to); t = t.Add(step) {
		for _, h := range holes {
			if !t.Before(h[0]) && t.Before(h[1]) {
				continue next
			}
		}
		out = append(out, t)
	}
	return out
}

// snapshotAfterOctober pulls a REST snapshot (the run starts now, after
// October) with one user created in October.
func snapshotAfterOctober(t *testing.T, s *ingest.Store) {
	t.Helper()
	pullSnapshot(t, s, &twiliofake.Account{SID: "AC1", Services: []*twiliofake.Service{{
		SID:   "IS1",
		Users: []twiliofake.User{{SID: "US1", Identity: "alice", DateCreated: at("2026-10-05T09:00:00Z")}},
	}}})
}

func octoberReport(t *testing.T, s *ingest.Store) analysis.MonthReport {
	t.Helper()
	rep, err := analyzer(t, s, analysis.DefaultSettings()).Report(context.Background(),
		analysis.MonthRange{From: october, To: october}, analysis.ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rep.Months[0]
}

func source(c analysis.Coverage, name string) analysis.SourceCoverage {
	for _, s := range c.Sources {
		if s.Source == name {
			return s
		}
	}
	return analysis.SourceCoverage{Source: "missing " + name}
}

func gapText(g analysis.Gap) string {
	return fmt.Sprintf("%s..%s %gh", g.From.Format("01-02T15:04"), g.To.Format("01-02T15:04"), g.Hours)
}

func TestCoverageWithoutLiveEvents(t *testing.T) {
	s := openStore(t)
	if _, err := s.LoadTokens(context.Background(), "tokens.csv", strings.NewReader("identity,issued_at\ncarol,2026-10-09T10:00:00Z\n")); err != nil {
		t.Fatal(err)
	}
	snapshotAfterOctober(t, s)
	m := octoberReport(t, s)
	c := m.Coverage
	if m.Complete || !slices.Equal(c.Reasons, []string{"no live events (webhooks or Event Streams)"}) {
		t.Errorf("complete %v, reasons %q", m.Complete, c.Reasons)
	}
	// Every source is there, in order, whether it has evidence or not.
	var names []string
	for _, src := range c.Sources {
		names = append(names, src.Source)
	}
	if !slices.Equal(names, analysis.CoverageSources) {
		t.Errorf("sources %q", names)
	}
	if w := source(c, "webhook"); w.Events != 0 || w.First != nil || w.Last != nil {
		t.Errorf("webhook %+v", w)
	}
	if r := source(c, "rest_snapshot"); r.Events != 1 || r.First == nil || !r.First.Equal(at("2026-10-05T09:00:00Z")) {
		t.Errorf("rest_snapshot %+v", r)
	}
	if tl := source(c, "token_log"); tl.Events != 1 || tl.Last == nil || !tl.Last.Equal(at("2026-10-09T10:00:00Z")) {
		t.Errorf("token_log %+v", tl)
	}
	if len(c.Snapshots) != 1 || !c.Snapshots[0].StartedAt.After(october.End()) {
		t.Errorf("snapshots %+v", c.Snapshots)
	}
	// Without live capture the whole month is one gap.
	if c.GapCount != 1 || len(c.Gaps) != 1 || gapText(c.Gaps[0]) != "10-01T00:00..11-01T00:00 744h" {
		t.Errorf("gaps %d %+v", c.GapCount, c.Gaps)
	}
}

func TestCoverageJudgesLiveGapsAndTheSnapshot(t *testing.T) {
	start, end := october.Start(), october.End()
	hole := func(from string, hours int) [2]time.Time {
		return [2]time.Time{at(from), at(from).Add(time.Duration(hours) * time.Hour)}
	}
	tests := []struct {
		name     string
		webhooks []time.Time
		streams  []time.Time
		snapshot bool
		gaps     []string // gapText of each gap listed
		reasons  []string // substrings, one per reason; none = complete
	}{
		{
			name:     "live every hour, no snapshot after the month",
			webhooks: every(start, end, time.Hour),
			reasons:  []string{"no REST snapshot taken after the month ended: run `mauledger ingest twilio`"},
		},
		{
			name:     "live every hour and a snapshot after the month",
			webhooks: every(start, end, time.Hour),
			snapshot: true,
		},
		{
			name:     "webhooks then Event Streams cover the month together",
			webhooks: every(start, at("2026-10-15T12:00:00Z"), time.Hour),
			streams:  every(at("2026-10-15T14:00:00Z"), end, time.Hour),
			snapshot: true,
		},
		{
			name:     "a 5-hour hole",
			webhooks: every(start, end, time.Hour, hole("2026-10-15T11:00:00Z", 4)),
			snapshot: true,
			gaps:     []string{"10-15T10:00..10-15T15:00 5h"},
			reasons:  []string{"live capture has 1 gap longer than 4 h: 5 h 0 m from 2026-10-15 10:00 UTC"},
		},
		{
			name:     "a 3-hour hole is within what Event Streams queues",
			webhooks: every(start, end, time.Hour, hole("2026-10-15T11:00:00Z", 2)),
			snapshot: true,
		},
		{
			// Events of September and November do not cover October's edges.
			name: "the month's edges: before the first live event and after the last",
			webhooks: append(every(at("2026-10-01T05:00:00Z"), at("2026-10-31T20:00:00Z"), time.Hour),
				at("2026-09-30T23:00:00Z"), at("2026-10-31T19:30:00Z"), at("2026-11-01T01:00:00Z")),
			snapshot: true,
			gaps:     []string{"10-01T00:00..10-01T05:00 5h", "10-31T19:30..11-01T00:00 4.5h"},
			reasons:  []string{"live capture has 2 gaps longer than 4 h, the longest 5 h 0 m from 2026-10-01 00:00 UTC"},
		},
		{
			name:     "gaps and no snapshot: live capture first",
			webhooks: every(start, end, time.Hour, hole("2026-10-03T02:00:00Z", 8), hole("2026-10-20T02:00:00Z", 4)),
			gaps:     []string{"10-03T01:00..10-03T10:00 9h", "10-20T01:00..10-20T06:00 5h"},
			reasons: []string{"live capture has 2 gaps longer than 4 h, the longest 9 h 0 m from 2026-10-03 01:00 UTC",
				"no REST snapshot taken after the month ended"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, append(liveEvents(false, tc.webhooks...), liveEvents(true, tc.streams...)...)...)
			if tc.snapshot {
				snapshotAfterOctober(t, s)
			}
			m := octoberReport(t, s)
			c := m.Coverage
			if m.Complete != (len(tc.reasons) == 0) {
				t.Errorf("complete = %v, reasons %q", m.Complete, c.Reasons)
			}
			if len(c.Reasons) != len(tc.reasons) {
				t.Errorf("reasons %q, want %q", c.Reasons, tc.reasons)
			} else {
				for i, want := range tc.reasons {
					if !strings.Contains(c.Reasons[i], want) {
						t.Errorf("reason %d = %q, want %q in it", i, c.Reasons[i], want)
					}
				}
			}
			var gaps []string
			for _, g := range c.Gaps {
				gaps = append(gaps, gapText(g))
			}
			if !slices.Equal(gaps, tc.gaps) || c.GapCount != len(tc.gaps) {
				t.Errorf("gaps %d %q, want %q", c.GapCount, gaps, tc.gaps)
			}
			for _, want := range []struct {
				source string
				times  []time.Time
			}{{"webhook", tc.webhooks}, {"event_stream", tc.streams}} {
				var in []time.Time
				for _, t := range want.times {
					if analysis.MonthOf(t) == october {
						in = append(in, t)
					}
				}
				got := source(c, want.source)
				if got.Events != len(in) || (len(in) > 0 && (got.First == nil || !got.First.Equal(slices.MinFunc(in, time.Time.Compare)) ||
					!got.Last.Equal(slices.MaxFunc(in, time.Time.Compare)))) {
					t.Errorf("%s coverage %+v, want %d events", want.source, got, len(in))
				}
			}
			if n := len(c.Snapshots); (n == 1) != tc.snapshot {
				t.Errorf("snapshots %+v", c.Snapshots)
			}
		})
	}
}

// Only a finished run started after the month ended makes it complete.
func TestCoverageSnapshotMustFollowTheMonth(t *testing.T) {
	s := openStore(t, liveEvents(false, every(october.Start(), october.End(), time.Hour)...)...)
	snapshotAfterOctober(t, s)
	if m := octoberReport(t, s); !m.Complete {
		t.Fatalf("dense live capture and a snapshot after: %q", m.Coverage.Reasons)
	}

	// The same run, as if taken during October: listed, but not enough.
	if _, err := s.DB.Exec(`UPDATE twilio_runs SET started_at = '2026-10-20 03:00:00', finished_at = '2026-10-20 03:05:00'`); err != nil {
		t.Fatal(err)
	}
	m := octoberReport(t, s)
	if m.Complete || len(m.Coverage.Snapshots) != 1 || !m.Coverage.Snapshots[0].StartedAt.Equal(at("2026-10-20T03:00:00Z")) ||
		!slices.Equal(m.Coverage.Reasons, []string{"no REST snapshot taken after the month ended: run `mauledger ingest twilio`"}) {
		t.Errorf("snapshot during the month: complete %v, %+v", m.Complete, m.Coverage)
	}

	// A run after October that did not finish does not count either.
	if _, err := s.DB.Exec(`UPDATE twilio_runs SET started_at = '2026-11-02 03:00:00', finished_at = NULL`); err != nil {
		t.Fatal(err)
	}
	m = octoberReport(t, s)
	if m.Complete || len(m.Coverage.Snapshots) != 0 || len(m.Coverage.Reasons) != 1 ||
		!strings.Contains(m.Coverage.Reasons[0], "run started 2026-11-02 03:00 UTC, after the month ended, did not finish") {
		t.Errorf("unfinished snapshot: complete %v, %+v", m.Complete, m.Coverage)
	}
}

// The month under way cannot be complete: its snapshot is still to come.
func TestCoverageOfTheMonthUnderWay(t *testing.T) {
	now := analysis.MonthOf(time.Now())
	s := openStore(t)
	snapshotAfterOctober(t, s)
	rep, err := analyzer(t, s, analysis.DefaultSettings()).Report(context.Background(),
		analysis.MonthRange{From: now, To: now}, analysis.ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Months[0].Coverage
	if rep.Months[0].Complete || len(c.Reasons) != 2 || !strings.HasPrefix(c.Reasons[1], "the month is not over") {
		t.Errorf("month under way: %+v", c)
	}
	// Its gap runs to now, not to the month's end.
	if len(c.Gaps) == 1 && c.Gaps[0].To.After(time.Now()) {
		t.Errorf("gap %+v runs past now", c.Gaps[0])
	}
}

// Reconcile judges completeness by the same coverage and gives its reasons.
func TestCoverageInReconciliation(t *testing.T) {
	s := openStore(t, liveEvents(false, every(october.Start(), october.End(), time.Hour,
		[2]time.Time{at("2026-10-15T11:00:00Z"), at("2026-10-15T15:00:00Z")})...)...)
	snapshotAfterOctober(t, s)
	if _, err := s.DB.Exec(`INSERT INTO twilio_usage_records VALUES
		('AC1', 'conversations', DATE '2026-10-01', DATE '2026-10-31', 5, 'users', 0, 'usd', now(), '{}')`); err != nil {
		t.Fatal(err)
	}
	m := octoberReport(t, s)
	r, err := analyzer(t, s, analysis.DefaultSettings()).Reconcile(context.Background(), october)
	if err != nil {
		t.Fatal(err)
	}
	if r.Complete || r.Complete != m.Complete || !slices.Equal(r.Coverage.Reasons, m.Coverage.Reasons) {
		t.Errorf("reconcile complete %v %q, report %v %q", r.Complete, r.Coverage.Reasons, m.Complete, m.Coverage.Reasons)
	}
	if len(r.Causes) == 0 || !strings.HasPrefix(r.Causes[0], "incomplete coverage of 2026-10: live capture has 1 gap longer than 4 h") {
		t.Errorf("causes %q", r.Causes)
	}
}
