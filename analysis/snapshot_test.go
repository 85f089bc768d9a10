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

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// pullSnapshot pulls account into s through the real puller and the fake.
func pullSnapshot(t *testing.T, s *ingest.Store, account *twiliofake.Account) {
	t.Helper()
	f := twiliofake.New(account, "secret")
	defer f.Close()
	_, err := ingest.NewTwilioPull(s, ingest.TwilioOptions{
		Credentials: ingest.TwilioCredentials{AccountSID: account.SID, AuthToken: "secret"},
		BaseURL:     f.URL,
	}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
}

// activities lists "rule source evidence" of subject's activities in month,
// sorted.
func activities(t *testing.T, a *analysis.Analyzer, subject string, m analysis.Month) []string {
	t.Helper()
	got := explainedAs(t, a, subject, m, func(act analysis.Activity) string {
		return fmt.Sprintf("%s %s %s", act.Rule, act.Source, act.Evidence)
	})
	slices.Sort(got)
	return got
}

func TestSnapshotEvidenceFeedsTheLedgerAndYieldsToLiveEvents(t *testing.T) {
	// Live: alice sent IM1 from an SDK in October.
	s := openStore(t, ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "alice", "Author", "alice",
		"MessageSid", "IM1", "DateCreated", "2026-10-07T10:00:00Z"))
	pullSnapshot(t, s, &twiliofake.Account{
		SID: "AC1",
		Services: []*twiliofake.Service{{
			SID: "IS1",
			Users: []twiliofake.User{
				{SID: "US1", Identity: "alice", DateCreated: at("2026-10-05T09:00:00Z"), DateUpdated: at("2026-11-02T09:00:00Z")},
				// bob's record is old: he is a known identity, not active for it.
				{SID: "US2", Identity: "bob", DateCreated: at("2025-01-01T00:00:00Z")},
			},
			Conversations: []*twiliofake.Conversation{{
				SID: "CH1", State: twiliofake.Active, DateCreated: at("2026-10-05T09:00:00Z"),
				Participants: []twiliofake.Participant{
					{SID: "MB1", Identity: "alice", DateCreated: at("2026-10-05T09:30:00Z")},
					{SID: "MB2", Address: "+15550001", ProxyAddress: "+18885550100", DateCreated: at("2026-10-06T09:00:00Z")},
				},
				Messages: []twiliofake.Message{
					{SID: "IM1", Index: 0, Author: "alice", DateCreated: at("2026-10-07T10:00:00Z")},
					{SID: "IM2", Index: 1, Author: "+15550001", DateCreated: at("2026-10-08T10:00:00Z")},
					{SID: "IM3", Index: 2, Author: "system", DateCreated: at("2026-10-09T10:00:00Z")},
					{SID: "IM4", Index: 3, Author: "ghost", DateCreated: at("2026-10-10T10:00:00Z")},
					{SID: "IM5", Index: 4, Author: "bob", DateCreated: at("2026-11-03T10:00:00Z")},
				},
			}},
		}},
	})
	a := analyzer(t, s, analysis.DefaultSettings())
	oct, nov := analysis.Month{Year: 2026, Month: 10}, analysis.Month{Year: 2026, Month: 11}

	for _, c := range []struct {
		subject string
		month   analysis.Month
		want    []string
	}{
		// IM1 is in both: one activity, the live one (it knows the SDK sent it).
		{"alice", oct, []string{"rest.participant_write rest_snapshot MB1", "rest.user_write rest_snapshot US1", "sdk.message webhook IM1"}},
		{"alice", nov, []string{"rest.user_write rest_snapshot US1"}},
		{"+15550001", oct, []string{"channel.address_added rest_snapshot MB2", "channel.inbound_message rest_snapshot IM2"}},
		// bob is known only from his User record: his REST message bills him.
		{"bob", nov, []string{"rest.message_author rest_snapshot IM5"}},
		{"ghost", oct, nil},
		{"system", oct, nil},
	} {
		if got := activities(t, a, c.subject, c.month); !slices.Equal(got, c.want) {
			t.Errorf("%s in %s:\n got %q\nwant %q", c.subject, c.month, got, c.want)
		}
	}

	rep, err := a.Report(context.Background(), analysis.MonthRange{From: oct, To: nov}, analysis.ReportOptions{Billed: true})
	if err != nil {
		t.Fatal(err)
	}
	o, n := rep.Months[0], rep.Months[1]
	if o.ActiveUsers != 2 || n.ActiveUsers != 2 {
		t.Errorf("active users %d and %d, want 2 and 2", o.ActiveUsers, n.ActiveUsers)
	}
	if o.DataQuality.SystemMessages != 1 || o.DataQuality.UnknownAuthorMessages != 1 || !slices.Equal(o.DataQuality.UnknownAuthors, []string{"ghost"}) {
		t.Errorf("October data quality %+v", o.DataQuality)
	}
	// One live event does not cover October: the rest of it is two gaps in
	// live capture. November is known from the snapshot only.
	if o.Complete || n.Complete || !strings.HasPrefix(strings.Join(o.Coverage.Reasons, "|"), "live capture has 2 gaps") ||
		strings.Join(n.Coverage.Reasons, "|") != "no live events (webhooks or Event Streams)" {
		t.Errorf("complete: October %v %q, November %v %q; want both incomplete", o.Complete, o.Coverage.Reasons, n.Complete, n.Coverage.Reasons)
	}
}

func TestReconcileNamesTheScopeWhenTwilioCountsPerAccount(t *testing.T) {
	s := openStore(t,
		ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "alice", "Author", "alice",
			"ChatServiceSid", "IS1", "MessageSid", "IM1", "DateCreated", "2026-10-07T10:00:00Z"),
		ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "alice", "Author", "alice",
			"ChatServiceSid", "IS2", "ConversationSid", "CH2", "MessageSid", "IM2", "DateCreated", "2026-10-08T10:00:00Z"))
	if _, err := s.DB.Exec(`INSERT INTO twilio_usage_records VALUES
		('AC1', 'conversations', DATE '2026-10-01', DATE '2026-10-31', 1, 'users', 0, 'usd', now(), '{}')`); err != nil {
		t.Fatal(err)
	}
	a := analyzer(t, s, analysis.DefaultSettings())
	r, err := a.Reconcile(context.Background(), analysis.Month{Year: 2026, Month: 10})
	if err != nil {
		t.Fatal(err)
	}
	if r.MAU != 2 || r.ServiceScopeMAU != 2 || r.AccountScopeMAU != 1 || r.TwilioMAU == nil || *r.TwilioMAU != 1 ||
		*r.Difference != -1 || r.Complete {
		t.Fatalf("reconciliation %+v", r)
	}
	if len(r.Causes) != 1 || !strings.Contains(r.Causes[0], "Twilio's count matches --scope account") {
		t.Errorf("causes %q", r.Causes)
	}
	if r.DifferenceText() != "Twilio counts 1 fewer" {
		t.Errorf("difference %q", r.DifferenceText())
	}

	// Without a usage record for the month, the cause says so.
	r, err = a.Reconcile(context.Background(), analysis.Month{Year: 2026, Month: 11})
	if err != nil {
		t.Fatal(err)
	}
	if r.TwilioMAU != nil || r.Difference != nil || len(r.Causes) != 1 || !strings.HasPrefix(r.Causes[0], "no Twilio usage record") {
		t.Errorf("November: %+v", r)
	}
}
