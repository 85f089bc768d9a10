package analysis_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mauledger/mauledger/analysis"
	"github.com/mauledger/mauledger/ingest"
)

// ev builds a webhook payload: form fields as Twilio posts them, all strings.
func ev(fields ...string) string {
	m := map[string]string{"ChatServiceSid": "IS1", "ConversationSid": "CH1", "RetryCount": "0"}
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i+1] == "" {
			delete(m, fields[i])
			continue
		}
		m[fields[i]] = fields[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// ce builds an Event Streams CloudEvent of type com.twilio.conversations.typ
// as Twilio sends it: data holds no ChatServiceSid, Source or ClientIdentity
// (../shared/twilio-events/), and a test that puts one there fails.
func ce(typ, id, time string, data map[string]any) string {
	for _, k := range []string{"ChatServiceSid", "Source", "ClientIdentity"} {
		if _, ok := data[k]; ok {
			panic("Twilio's CloudEvents carry no " + k)
		}
	}
	data["AccountSid"] = "AC1"
	b, _ := json.Marshal(map[string]any{
		"specversion": "1.0", "type": "com.twilio.conversations." + typ, "source": "AB00000000000000000000000001",
		"id": id, "time": time, "datacontenttype": "application/json", "data": data,
	})
	return string(b)
}

func openStore(t *testing.T, lines ...string) *ingest.Store {
	t.Helper()
	ctx := context.Background()
	s, err := ingest.Open(ctx, filepath.Join(t.TempDir(), "rules.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	res, err := s.LoadEvents(ctx, "fixture", strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) > 0 {
		t.Fatalf("fixture rejected: %v", res.Rejected)
	}
	return s
}

func analyzer(t *testing.T, s *ingest.Store, settings analysis.Settings) *analysis.Analyzer {
	t.Helper()
	a, err := analysis.New(context.Background(), s.DB, settings)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// ledger lists "month service kind:subject rule" for every billable activity.
func ledger(t *testing.T, lines ...string) []string {
	t.Helper()
	a := analyzer(t, openStore(t, lines...), analysis.DefaultSettings())
	rep, err := a.Report(context.Background(), analysis.MonthRange{
		From: analysis.Month{Year: 2026, Month: 1}, To: analysis.Month{Year: 2026, Month: 12}}, analysis.ReportOptions{Billed: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range rep.Months {
		for _, b := range m.Billed {
			got = append(got, fmt.Sprintf("%s %s %s:%s %s", m.Month, b.ServiceSID, b.Kind, b.Subject, b.First.Rule))
		}
	}
	return got
}

func TestRules(t *testing.T) {
	tests := []struct {
		name   string
		events []string
		want   []string // billed subjects with their first rule; nil = nobody billed
	}{
		{
			name:   "sdk.connect/any SDK event proves a connection",
			events: []string{ev("EventType", "onConversationUpdated", "Source", "SDK", "ClientIdentity", "alice", "DateUpdated", "2026-10-05T10:00:00Z")},
			want:   []string{"2026-10 IS1 identity:alice sdk.connect"},
		},
		{
			name:   "sdk.connect/a rejected pre-event still proves the connection",
			events: []string{ev("EventType", "onMessageAdd", "Source", "SDK", "ClientIdentity", "alice", "Author", "alice", "_received_at", "2026-10-05T10:00:00Z")},
			want:   []string{"2026-10 IS1 identity:alice sdk.connect"},
		},
		{
			name: "sdk.connect/a user coming online, from Event Streams: its service from its User, its time from the event",
			events: []string{
				ev("EventType", "onUserAdded", "Source", "API", "UserSid", "US1", "Identity", "alice", "DateCreated", "2026-08-01T00:00:00Z"),
				ev("EventType", "onUserAdded", "Source", "API", "UserSid", "US2", "Identity", "bob", "DateCreated", "2026-08-01T00:00:00Z"),
				ce("user.updated", "EV1", "2026-10-06T00:00:00Z", map[string]any{"UserSid": "US1", "Identity": "alice",
					"IsOnline": true, "IsNotifiable": false, "DateCreated": "2026-08-01T00:00:00Z", "DateUpdated": "2026-08-01T00:00:00Z"}),
				// going offline: nothing
				ce("user.updated", "EV2", "2026-10-06T00:00:00Z", map[string]any{"UserSid": "US2", "Identity": "bob",
					"IsOnline": false, "IsNotifiable": false, "DateCreated": "2026-08-01T00:00:00Z", "DateUpdated": "2026-08-01T00:00:00Z"}),
			},
			want: []string{"2026-08 IS1 identity:alice rest.user_write", "2026-08 IS1 identity:bob rest.user_write", "2026-10 IS1 identity:alice sdk.connect"},
		},
		{
			name:   "sdk.message/an SDK message bills its sender once, not also as a connection",
			events: []string{ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "alice", "Author", "alice", "MessageSid", "IM1", "DateCreated", "2026-10-07T00:00:00Z")},
			want:   []string{"2026-10 IS1 identity:alice sdk.message"},
		},
		{
			name: "sdk.join_leave/joining and leaving; a leave is timed by its update",
			events: []string{
				ev("EventType", "onParticipantAdded", "Source", "SDK", "ClientIdentity", "alice", "Identity", "alice", "ParticipantSid", "MB1", "DateCreated", "2026-09-30T12:00:00Z"),
				ev("EventType", "onParticipantRemoved", "Source", "SDK", "ClientIdentity", "alice", "Identity", "alice", "ParticipantSid", "MB1", "DateCreated", "2026-09-30T12:00:00Z", "DateUpdated", "2026-11-02T00:00:00Z"),
			},
			want: []string{"2026-09 IS1 identity:alice sdk.join_leave", "2026-11 IS1 identity:alice sdk.join_leave"},
		},
		{
			name: "sdk.join_leave/an SDK user adding someone else bills the adder only",
			events: []string{
				ev("EventType", "onParticipantAdded", "Source", "SDK", "ClientIdentity", "alice", "Identity", "bob", "ParticipantSid", "MB2", "DateCreated", "2026-10-01T00:00:00Z"),
			},
			want: []string{"2026-10 IS1 identity:alice sdk.connect"},
		},
		{
			name: "rest.user_write/creating and updating a User through the API",
			events: []string{
				ev("EventType", "onUserAdded", "Source", "API", "UserSid", "US1", "Identity", "carol", "DateCreated", "2026-10-01T00:00:00Z"),
				ev("EventType", "onUserUpdated", "Source", "API", "UserSid", "US1", "Identity", "carol", "DateCreated", "2026-10-01T00:00:00Z", "DateUpdated", "2026-11-15T00:00:00Z"),
			},
			want: []string{"2026-10 IS1 identity:carol rest.user_write", "2026-11 IS1 identity:carol rest.user_write"},
		},
		{
			name: "rest.user_write/a User updated through the API is a write, whatever IsOnline says",
			events: []string{
				ev("EventType", "onUserUpdated", "Source", "API", "UserSid", "US1", "Identity", "carol", "IsOnline", "false", "DateUpdated", "2026-11-15T00:00:00Z"),
			},
			want: []string{"2026-11 IS1 identity:carol rest.user_write"},
		},
		{
			name: "rest.message_author/an API message names a known identity as author",
			events: []string{
				ev("EventType", "onUserAdded", "Source", "API", "UserSid", "US1", "Identity", "agent", "DateCreated", "2026-09-01T00:00:00Z"),
				ev("EventType", "onMessageAdded", "Source", "API", "Author", "agent", "MessageSid", "IM1", "DateCreated", "2026-10-03T00:00:00Z"),
			},
			want: []string{"2026-09 IS1 identity:agent rest.user_write", "2026-10 IS1 identity:agent rest.message_author"},
		},
		{
			name: "rest.message_author/system and unknown authors are not users",
			events: []string{
				ev("EventType", "onMessageAdded", "Source", "API", "Author", "system", "MessageSid", "IM1", "DateCreated", "2026-10-03T00:00:00Z"),
				ev("EventType", "onMessageAdded", "Source", "API", "Author", "nobody-we-know", "MessageSid", "IM2", "DateCreated", "2026-10-03T00:00:00Z"),
			},
			want: nil,
		},
		{
			name: "rest.participant_write/adding and removing an identity through the API",
			events: []string{
				ev("EventType", "onParticipantAdded", "Source", "API", "Identity", "dave", "ParticipantSid", "MB3", "DateCreated", "2026-10-01T00:00:00Z"),
				ev("EventType", "onParticipantRemoved", "Source", "API", "Identity", "erin", "ParticipantSid", "MB4", "DateCreated", "2026-08-01T00:00:00Z", "DateUpdated", "2026-10-09T00:00:00Z"),
			},
			want: []string{"2026-10 IS1 identity:dave rest.participant_write", "2026-10 IS1 identity:erin rest.participant_write"},
		},
		{
			name: "channel.inbound_message/an SMS from an address",
			events: []string{
				ev("EventType", "onMessageAdded", "Source", "SMS", "Author", "+15551230001", "MessageSid", "IM1", "DateCreated", "2026-10-03T00:00:00Z"),
				ev("EventType", "onMessageAdded", "Source", "WHATSAPP", "Author", "whatsapp:+447700900001", "MessageSid", "IM2", "DateCreated", "2026-10-03T00:00:00Z"),
			},
			want: []string{"2026-10 IS1 address:+15551230001 channel.inbound_message", "2026-10 IS1 address:whatsapp:+447700900001 channel.inbound_message"},
		},
		{
			name: "channel.address_added/adding an address; afterwards it only receives",
			events: []string{
				ev("EventType", "onParticipantAdded", "Source", "API", "MessagingBinding.Address", "+15551230002", "ParticipantSid", "MB5", "DateCreated", "2026-09-20T00:00:00Z"),
				ev("EventType", "onUserAdded", "Source", "API", "UserSid", "US1", "Identity", "agent", "DateCreated", "2026-08-01T00:00:00Z"),
				ev("EventType", "onMessageAdded", "Source", "API", "Author", "agent", "MessageSid", "IM1", "DateCreated", "2026-10-03T00:00:00Z"),
			},
			want: []string{
				"2026-08 IS1 identity:agent rest.user_write",
				"2026-09 IS1 address:+15551230002 channel.address_added",
				"2026-10 IS1 identity:agent rest.message_author",
			},
		},
		{
			name: "channel.inbound_message/Event Streams without Source: an address author came in from its channel",
			events: []string{
				ev("EventType", "onConversationAdded", "Source", "API", "DateCreated", "2026-09-01T00:00:00Z"),
				ce("participant.added", "EV1", "2026-10-01T00:00:00Z", map[string]any{"ConversationSid": "CH1", "ParticipantSid": "MB1",
					"Identity": nil, "DateCreated": "2026-10-01T00:00:00Z", "MessagingBinding": map[string]any{"Address": "+15551230003", "ProxyAddress": "+15550000000", "Type": "SMS"}}),
				ce("message.added", "EV2", "2026-11-01T00:00:00Z", map[string]any{"ConversationSid": "CH1", "MessageSid": "IM1",
					"Author": "+15551230003", "ParticipantSid": "MB1", "Index": 0, "MessageBody": "hi", "DateCreated": "2026-11-01T00:00:00Z"}),
			},
			want: []string{
				"2026-10 IS1 address:+15551230003 channel.address_added",
				"2026-11 IS1 address:+15551230003 channel.inbound_message",
			},
		},
		{
			name: "trap/month boundaries are UTC, whatever the offset the event was written with",
			events: []string{
				ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "late", "MessageSid", "IM1", "DateCreated", "2026-10-31T23:59:59Z"),
				ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "early", "MessageSid", "IM2", "DateCreated", "2026-11-01T00:00:00Z"),
				ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "offset", "MessageSid", "IM3", "DateCreated", "2026-11-01T01:30:00+02:00"),
			},
			want: []string{
				"2026-10 IS1 identity:late sdk.message",
				"2026-10 IS1 identity:offset sdk.message",
				"2026-11 IS1 identity:early sdk.message",
			},
		},
		{
			name: "trap/identities are case-sensitive",
			events: []string{
				ev("EventType", "onUserAdded", "Source", "API", "UserSid", "US1", "Identity", "Alice", "DateCreated", "2026-10-01T00:00:00Z"),
				ev("EventType", "onUserAdded", "Source", "API", "UserSid", "US2", "Identity", "alice", "DateCreated", "2026-10-01T00:00:00Z"),
			},
			want: []string{"2026-10 IS1 identity:Alice rest.user_write", "2026-10 IS1 identity:alice rest.user_write"},
		},
		{
			name: "trap/a webhook retry and an Event Streams copy are one activity",
			events: []string{
				ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "alice", "MessageSid", "IM1", "DateCreated", "2026-10-07T00:00:00Z"),
				ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "alice", "MessageSid", "IM1", "DateCreated", "2026-10-07T00:00:00Z", "RetryCount", "1"),
				ce("message.added", "EV9", "2026-10-07T00:00:00.100Z", map[string]any{"ConversationSid": "CH1", "MessageSid": "IM1",
					"Author": "alice", "ParticipantSid": "MB1", "Index": 0, "MessageBody": "hi", "DateCreated": "2026-10-07T00:00:00Z"}),
			},
			want: []string{"2026-10 IS1 identity:alice sdk.message"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ledger(t, tt.events...)
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("billed:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

// TestRetryIsOneActivity checks the ledger itself, not only who is billed:
// a retried webhook and its Event Streams copy make one ledger row, which
// keeps the webhook's Source and takes the CloudEvent's time.
func TestRetryIsOneActivity(t *testing.T) {
	s := openStore(t,
		ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "alice", "MessageSid", "IM1", "DateCreated", "2026-10-07T00:00:00Z",
			"_received_at", "2026-10-07T00:00:00.400Z"),
		ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "alice", "MessageSid", "IM1", "DateCreated", "2026-10-07T00:00:00Z", "RetryCount", "1",
			"_received_at", "2026-10-07T00:00:09Z"),
		ce("message.added", "EV9", "2026-10-07T00:00:00.100Z", map[string]any{"ConversationSid": "CH1", "MessageSid": "IM1",
			"Author": "alice", "ParticipantSid": "MB1", "Index": 0, "MessageBody": "hi", "DateCreated": "2026-10-07T00:00:00Z"}),
	)
	a := analyzer(t, s, analysis.DefaultSettings())
	e, err := a.Explain(context.Background(), "alice", analysis.Month{Year: 2026, Month: 10}, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Services) != 1 || len(e.Services[0].Activities) != 1 {
		t.Fatalf("want one activity, got %+v", e.Services)
	}
	act := e.Services[0].Activities[0]
	if act.At != time.Date(2026, 10, 7, 0, 0, 0, 100e6, time.UTC) || act.TimedBy != "time" {
		t.Errorf("activity at %v by %s, want 2026-10-07 00:00:00.1 UTC by the CloudEvent time", act.At, act.TimedBy)
	}
	if act.Rule != "sdk.message" || act.Source != "webhook" || act.Origin != "SDK" || act.ServiceSID != "IS1" {
		t.Errorf("activity %+v, want the webhook's sdk.message in IS1", act)
	}
}

func TestScopeCountsAnIdentityInTwoServices(t *testing.T) {
	events := []string{
		ev("EventType", "onUserAdded", "Source", "API", "ChatServiceSid", "IS1", "UserSid", "US1", "Identity", "alice", "DateCreated", "2026-10-01T00:00:00Z"),
		ev("EventType", "onUserAdded", "Source", "API", "ChatServiceSid", "IS2", "UserSid", "US2", "Identity", "alice", "DateCreated", "2026-10-02T00:00:00Z"),
		ev("EventType", "onMessageAdded", "Source", "SMS", "ChatServiceSid", "IS2", "Author", "+15550000001", "MessageSid", "IM1", "DateCreated", "2026-10-02T00:00:00Z"),
	}
	oct := analysis.MonthRange{From: analysis.Month{Year: 2026, Month: 10}, To: analysis.Month{Year: 2026, Month: 10}}
	for _, tt := range []struct {
		scope analysis.Scope
		want  int
	}{{analysis.ScopeService, 3}, {analysis.ScopeAccount, 2}} {
		settings := analysis.DefaultSettings()
		settings.Scope = tt.scope
		rep, err := analyzer(t, openStore(t, events...), settings).Report(context.Background(), oct, analysis.ReportOptions{Billed: true})
		if err != nil {
			t.Fatal(err)
		}
		m := rep.Months[0]
		if m.ActiveUsers != tt.want || m.Identities != tt.want-1 || m.Addresses != 1 {
			t.Errorf("scope %s: %d users (%d identities, %d addresses), want %d", tt.scope, m.ActiveUsers, m.Identities, m.Addresses, tt.want)
		}
		if len(m.Services) != 2 || m.Services[0].ServiceSID != "IS2" || m.Services[0].ActiveUsers != 2 || m.Services[1].ActiveUsers != 1 {
			t.Errorf("scope %s: services %+v", tt.scope, m.Services)
		}
		if m.ByFamily["rest"] != tt.want-1 || m.ByFamily["channel"] != 1 || m.ByFamily["sdk"] != 0 {
			t.Errorf("scope %s: by family %v", tt.scope, m.ByFamily)
		}
	}
}

// TestMonthBoundaryWhateverTheLocalZone runs the boundary check in a child
// process whose local time zone is 14 hours ahead of UTC: DuckDB and Go both
// read the zone once at start, so only a fresh process tests it.
func TestMonthBoundaryWhateverTheLocalZone(t *testing.T) {
	if os.Getenv("MAULEDGER_TZ_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestMonthBoundaryWhateverTheLocalZone$", "-test.v")
		cmd.Env = append(os.Environ(), "MAULEDGER_TZ_CHILD=1", "TZ=Pacific/Kiritimati")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "boundary checked") {
			t.Fatalf("child in Pacific/Kiritimati: %v\n%s", err, out)
		}
		return
	}
	got := ledger(t,
		ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "late", "MessageSid", "IM1", "DateCreated", "2026-10-31T23:59:59Z"),
		ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "early", "MessageSid", "IM2", "DateCreated", "2026-11-01T00:00:00Z"),
	)
	slices.Sort(got)
	want := []string{"2026-10 IS1 identity:late sdk.message", "2026-11 IS1 identity:early sdk.message"}
	if !slices.Equal(got, want) {
		t.Fatalf("in %s: billed %v, want %v", os.Getenv("TZ"), got, want)
	}
	t.Log("boundary checked")
}

func TestExplainSaysWhyNotBilled(t *testing.T) {
	s := openStore(t,
		ev("EventType", "onParticipantAdded", "Source", "API", "MessagingBinding.Address", "+15551230002", "ParticipantSid", "MB5", "DateCreated", "2026-09-20T00:00:00Z"),
		ev("EventType", "onUserAdded", "Source", "API", "UserSid", "US1", "Identity", "agent", "DateCreated", "2026-08-01T00:00:00Z"),
		ev("EventType", "onMessageAdded", "Source", "API", "Author", "agent", "MessageSid", "IM1", "DateCreated", "2026-10-03T00:00:00Z"),
		ev("EventType", "onMessageAdded", "Source", "API", "Author", "agent", "MessageSid", "IM2", "DateCreated", "2026-10-04T00:00:00Z"),
		ev("EventType", "onMessageAdded", "Source", "API", "Author", "ghost", "MessageSid", "IM3", "DateCreated", "2026-10-05T00:00:00Z"),
	)
	a := analyzer(t, s, analysis.DefaultSettings())
	oct := analysis.Month{Year: 2026, Month: 10}
	for subject, want := range map[string][]string{
		"+15551230002": {
			"received 3 message(s) sent by others in its conversations: receiving is free",
			"last billed in 2026-09",
		},
		"ghost": {
			"authored 1 message(s) without a ParticipantSid, and is neither a known identity of the service nor a participant address of the conversation: an unknown author, billed only with --unknown-authors bill",
			"named in 1 onMessageAdded event(s) from API: not a qualifying activity",
		},
		"nobody": {"no activity recorded in 2026-10"},
	} {
		e, err := a.Explain(context.Background(), subject, oct, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Services) != 1 || e.Services[0].Billed || !slices.Equal(e.Services[0].NotBilled, want) {
			t.Errorf("%s: %+v\nwant reasons %q", subject, e.Services, want)
		}
	}
}
