package demo

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/mauledger/mauledger/analysis"
	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/twiliofake"
)

// TestRESTAccountAgreesWithTheEvents serves the REST view of a small demo
// account from the fake, pulls all of it with the real ingester, and checks
// that it tells the same story as the events: every message and participant
// it lists was added by an event, and within the generated months every
// snapshot activity is one a live event already reported, so the figures
// do not move.
func TestRESTAccountAgreesWithTheEvents(t *testing.T) {
	ctx := context.Background()
	cfg := small()
	lines, _ := generate(t, cfg)
	s, err := ingest.Open(ctx, filepath.Join(t.TempDir(), "demo.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.LoadEvents(ctx, "demo", bytes.NewReader(lines)); err != nil {
		t.Fatal(err)
	}
	months := analysis.MonthRange{From: analysis.MonthOf(cfg.Start), To: analysis.MonthOf(cfg.Start.AddDate(0, cfg.Months-1, 0))}
	report := func() *analysis.Report {
		a, err := analysis.New(ctx, s.DB, analysis.DefaultSettings())
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		rep, err := a.Report(ctx, months, analysis.ReportOptions{Billed: true})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	live := report()

	const accountSID, token = "AC00000000000000000000000000000de0", "demotoken"
	account, err := RESTAccount(ctx, s.DB, accountSID, cfg.EventStreamsService())
	if err != nil {
		t.Fatal(err)
	}
	f := twiliofake.New(account, token)
	defer f.Close()
	res, err := ingest.NewTwilioPull(s, ingest.TwilioOptions{
		Credentials: ingest.TwilioCredentials{AccountSID: accountSID, AuthToken: token},
		BaseURL:     f.URL,
	}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(account.Services) != cfg.Services || res.Messages == 0 || res.Participants == 0 || res.Users == 0 {
		t.Fatalf("pulled %+v from %d services", res.TwilioProgress, len(account.Services))
	}

	var n int
	for what, q := range map[string]string{
		"messages without an added event": `SELECT count(*) FROM twilio_messages m WHERE NOT EXISTS
			(SELECT 1 FROM events e WHERE e.message_sid = m.sid AND e.action = 'added')`,
		"added messages not listed": `SELECT count(DISTINCT message_sid) FROM events e WHERE resource = 'message' AND action = 'added'
			AND NOT EXISTS (SELECT 1 FROM twilio_messages m WHERE m.sid = e.message_sid)`,
		"participants removed since": `SELECT count(*) FROM twilio_participants p WHERE EXISTS
			(SELECT 1 FROM events e WHERE e.participant_sid = p.sid AND e.action = 'removed'
			 AND e.occurred_at > (SELECT max(occurred_at) FROM events a WHERE a.participant_sid = p.sid AND a.action = 'added'))`,
	} {
		if err := s.DB.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s: %d", what, n)
		}
	}

	withSnapshot := report()
	for i, m := range withSnapshot.Months {
		if m.ActiveUsers != live.Months[i].ActiveUsers || m.Identities != live.Months[i].Identities {
			t.Errorf("%s: %d active users with the snapshot, %d from the events alone", m.Month, m.ActiveUsers, live.Months[i].ActiveUsers)
		}
		for _, b := range m.Billed {
			if b.First.Source == "rest_snapshot" {
				t.Errorf("%s: %s first billed on a snapshot row the events also report", m.Month, b.Subject)
				break
			}
		}
	}
}
