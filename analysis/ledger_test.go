package analysis_test

import (
	"context"
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mauledger/mauledger/analysis"
	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/twiliofake"
)

func refresh(t *testing.T, s *ingest.Store) analysis.LedgerStatus {
	t.Helper()
	st, err := analysis.Refresh(context.Background(), s.DB)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func billedIn(t *testing.T, s *ingest.Store, m analysis.Month) []string {
	t.Helper()
	rep, err := analyzer(t, s, analysis.DefaultSettings()).Report(context.Background(), analysis.MonthRange{From: m, To: m}, analysis.ReportOptions{Billed: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range rep.Months[0].Billed {
		got = append(got, b.Subject)
	}
	slices.Sort(got)
	return got
}

func TestStoredLedgerIsRebuiltOnlyWhenTheEvidenceChanges(t *testing.T) {
	oct := analysis.Month{Year: 2026, Month: 10}
	s := openStore(t, ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "alice",
		"MessageSid", "IM1", "DateCreated", "2026-10-07T10:00:00Z"))
	if st := refresh(t, s); !st.Rebuilt || st.Rows != 1 {
		t.Fatalf("first refresh: %+v", st)
	}
	if st := refresh(t, s); st.Rebuilt || st.Rows != 1 {
		t.Fatalf("refresh of an unchanged store rebuilt: %+v", st)
	}

	// New live events: the next report sees them without an explicit refresh.
	if _, err := s.LoadEvents(context.Background(), "more", strings.NewReader(ev("EventType", "onMessageAdded",
		"Source", "SDK", "ClientIdentity", "bob", "MessageSid", "IM2", "DateCreated", "2026-10-08T10:00:00Z"))); err != nil {
		t.Fatal(err)
	}
	if got := billedIn(t, s, oct); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Errorf("after a new event, billed %v", got)
	}
	if st := refresh(t, s); st.Rebuilt {
		t.Errorf("the report's refresh was not stored: %+v", st)
	}

	// A token log is evidence too (inferred rows are stored, filtered on read).
	if _, err := s.LoadTokens(context.Background(), "tokens.csv", strings.NewReader("identity,issued_at\ncarol,2026-10-09T10:00:00Z\n")); err != nil {
		t.Fatal(err)
	}
	if st := refresh(t, s); !st.Rebuilt || st.Rows != 3 {
		t.Errorf("after a token log: %+v", st)
	}
}

func TestStoredLedgerFollowsSnapshotsReplacedInPlace(t *testing.T) {
	oct := analysis.Month{Year: 2026, Month: 10}
	s := openStore(t)
	account := &twiliofake.Account{SID: "AC1", Services: []*twiliofake.Service{{
		SID:   "IS1",
		Users: []twiliofake.User{{SID: "US1", Identity: "dora", DateCreated: at("2026-09-01T00:00:00Z"), DateUpdated: at("2026-09-01T00:00:00Z")}},
	}}}
	pullSnapshot(t, s, account)
	if got := billedIn(t, s, oct); len(got) != 0 {
		t.Fatalf("dora billed in October before any update: %v", got)
	}
	// The backend updates dora's User in October: the same row, pulled again.
	account.Services[0].Users[0].DateUpdated = at("2026-10-15T00:00:00Z")
	pullSnapshot(t, s, account)
	if got := billedIn(t, s, oct); !slices.Equal(got, []string{"dora"}) {
		t.Errorf("after the User update, October billed %v", got)
	}
}

func TestInterruptedRefreshKeepsTheStoredLedger(t *testing.T) {
	s := openStore(t, ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "alice",
		"MessageSid", "IM1", "DateCreated", "2026-10-07T10:00:00Z"))
	refresh(t, s)
	if _, err := s.LoadEvents(context.Background(), "more", strings.NewReader(ev("EventType", "onMessageAdded",
		"Source", "SDK", "ClientIdentity", "bob", "MessageSid", "IM2", "DateCreated", "2026-10-08T10:00:00Z"))); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := analysis.Refresh(ctx, s.DB); !errors.Is(err, context.Canceled) {
		t.Fatalf("refresh with a cancelled context: %v", err)
	}
	var rows int
	if err := s.DB.QueryRow(`SELECT count(*) FROM activity_ledger`).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("stored ledger after the interrupted refresh: %d rows, %v", rows, err)
	}
	if st := refresh(t, s); !st.Rebuilt || st.Rows != 2 {
		t.Errorf("the next refresh: %+v", st)
	}
}

func TestStoredLedgerOfOtherRulesIsRebuilt(t *testing.T) {
	s := openStore(t, ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "alice",
		"MessageSid", "IM1", "DateCreated", "2026-10-07T10:00:00Z"))
	refresh(t, s)
	// As if another version of mauledger, with other rules, had stored it.
	if _, err := s.DB.Exec(`UPDATE ledger_state SET fingerprint = 'built by an older mauledger'`); err != nil {
		t.Fatal(err)
	}
	if st := refresh(t, s); !st.Rebuilt {
		t.Errorf("a ledger of other rules was kept: %+v", st)
	}
}

// The figures count rules by their bit in Rules: a rule ledger.sql can
// produce but Rules lacks would vanish from them.
func TestEveryRuleOfTheLedgerIsInRules(t *testing.T) {
	sql, err := os.ReadFile("ledger.sql")
	if err != nil {
		t.Fatal(err)
	}
	found := regexp.MustCompile(`'((?:sdk|rest|channel)\.[a-z0-9_]+)'`).FindAllStringSubmatch(string(sql), -1)
	if len(found) < len(analysis.Rules) {
		t.Fatalf("found %d rule names in ledger.sql", len(found))
	}
	for _, m := range found {
		if !slices.Contains(analysis.Rules, m[1]) {
			t.Errorf("ledger.sql produces %s, which analysis.Rules lacks", m[1])
		}
	}
}

// A snapshot that brings only a conversation still changes the ledger: it
// tells the service of the Event Streams events in that conversation.
func TestStoredLedgerFollowsASnapshotOfConversationsOnly(t *testing.T) {
	s := openStore(t, ce("message.added", "EV1", "2026-10-10T00:00:00Z", map[string]any{"ConversationSid": "CH1",
		"MessageSid": "IM1", "Author": "alice", "ParticipantSid": "MB1", "Index": 0, "MessageBody": "x", "DateCreated": "2026-10-10T00:00:00Z"}))
	if got := services(monthReport(t, analyzer(t, s, analysis.DefaultSettings()), oct2026)); !slices.Equal(got, []string{"unknown=1"}) {
		t.Fatalf("before the snapshot: %v", got)
	}
	pullSnapshot(t, s, &twiliofake.Account{SID: "AC1", Services: []*twiliofake.Service{
		{SID: "IS1", Conversations: []*twiliofake.Conversation{{SID: "CH1", State: twiliofake.Active, DateCreated: at("2025-01-01T00:00:00Z")}}},
		{SID: "IS2"},
	}})
	if got := services(monthReport(t, analyzer(t, s, analysis.DefaultSettings()), oct2026)); !slices.Equal(got, []string{"IS1=1"}) {
		t.Errorf("after the snapshot: %v, want alice in IS1", got)
	}
}
