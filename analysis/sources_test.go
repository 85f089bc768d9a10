package analysis_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/mauledger/mauledger/analysis"
	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/twiliofake"
)

// twoServices is an account of two Conversation Services as the REST API
// lists it after October 2026: each service's users and conversations,
// with the participants and messages October's activity left.
func twoServices() *twiliofake.Account {
	old := at("2025-01-01T00:00:00Z")
	return &twiliofake.Account{SID: "AC1", Services: []*twiliofake.Service{
		{
			SID: "ISa", FriendlyName: "web", DateCreated: old,
			Users: []twiliofake.User{{SID: "USa1", Identity: "alice", DateCreated: old, DateUpdated: old}},
			Conversations: []*twiliofake.Conversation{{
				SID: "CHa1", State: twiliofake.Active, DateCreated: old, DateUpdated: old,
				Participants: []twiliofake.Participant{
					{SID: "MBa1", Identity: "alice", DateCreated: old},
					{SID: "MBa2", Identity: "erin", DateCreated: at("2026-10-03T09:00:00Z")},
				},
				Messages: []twiliofake.Message{{SID: "IMa1", Index: 0, Author: "alice", ParticipantSID: "MBa1", Body: "hi", DateCreated: at("2026-10-02T09:00:00Z")}},
			}},
		},
		{
			SID: "ISb", FriendlyName: "sms", DateCreated: old,
			Users: []twiliofake.User{{SID: "USb1", Identity: "bob", DateCreated: old, DateUpdated: at("2026-10-04T09:00:00Z")}},
			Conversations: []*twiliofake.Conversation{{
				SID: "CHb1", State: twiliofake.Active, DateCreated: old, DateUpdated: old,
				Participants: []twiliofake.Participant{
					{SID: "MBb1", Address: "+15550001", ProxyAddress: "+15559990000", DateCreated: old},
					{SID: "MBb2", Identity: "erin", DateCreated: at("2026-10-05T09:00:00Z")},
				},
				Messages: []twiliofake.Message{{SID: "IMb1", Index: 0, Author: "+15550001", ParticipantSID: "MBb1", Body: "hello", DateCreated: at("2026-10-06T09:00:00Z")}},
			}},
		},
	}}
}

// octoberAsWebhooks is October's activity of twoServices as Conversations
// webhooks report it (form fields, with the time serve received them).
var octoberAsWebhooks = []string{
	ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "alice", "ChatServiceSid", "ISa", "ConversationSid", "CHa1",
		"MessageSid", "IMa1", "Index", "0", "Author", "alice", "ParticipantSid", "MBa1", "Body", "hi",
		"DateCreated", "2026-10-02T09:00:00Z", "_received_at", "2026-10-02T09:00:00.400Z"),
	ev("EventType", "onParticipantAdded", "Source", "API", "ChatServiceSid", "ISa", "ConversationSid", "CHa1",
		"ParticipantSid", "MBa2", "Identity", "erin", "DateCreated", "2026-10-03T09:00:00Z", "_received_at", "2026-10-03T09:00:00.400Z"),
	ev("EventType", "onUserUpdated", "Source", "API", "ChatServiceSid", "ISb", "UserSid", "USb1", "Identity", "bob", "IsOnline", "false",
		"DateCreated", "2025-01-01T00:00:00Z", "DateUpdated", "2026-10-04T09:00:00Z", "_received_at", "2026-10-04T09:00:00.400Z"),
	ev("EventType", "onParticipantAdded", "Source", "API", "ChatServiceSid", "ISb", "ConversationSid", "CHb1",
		"ParticipantSid", "MBb2", "Identity", "erin", "DateCreated", "2026-10-05T09:00:00Z", "_received_at", "2026-10-05T09:00:00.400Z"),
	ev("EventType", "onMessageAdded", "Source", "SMS", "ChatServiceSid", "ISb", "ConversationSid", "CHb1",
		"MessageSid", "IMb1", "Index", "0", "Author", "+15550001", "ParticipantSid", "MBb1", "Body", "hello",
		"DateCreated", "2026-10-06T09:00:00Z", "_received_at", "2026-10-06T09:00:00.400Z"),
	ev("EventType", "onUserUpdated", "Source", "SDK", "ClientIdentity", "alice", "ChatServiceSid", "ISa", "UserSid", "USa1", "Identity", "alice",
		"IsOnline", "true", "DateCreated", "2025-01-01T00:00:00Z", "DateUpdated", "2025-01-01T00:00:00Z", "_received_at", "2026-10-20T09:00:00.400Z"),
}

// octoberAsEventStreams is the same activity as Event Streams delivers it:
// no service, no Source, no ClientIdentity.
var octoberAsEventStreams = []string{
	ce("message.added", "EV1", "2026-10-02T09:00:00.100Z", map[string]any{"ConversationSid": "CHa1", "MessageSid": "IMa1", "Index": 0,
		"Author": "alice", "ParticipantSid": "MBa1", "MessageBody": "hi", "DateCreated": "2026-10-02T09:00:00Z"}),
	ce("participant.added", "EV2", "2026-10-03T09:00:00.100Z", map[string]any{"ConversationSid": "CHa1", "ParticipantSid": "MBa2",
		"Identity": "erin", "RoleSid": "RL1", "DateCreated": "2026-10-03T09:00:00Z"}),
	ce("user.updated", "EV3", "2026-10-04T09:00:00.100Z", map[string]any{"UserSid": "USb1", "Identity": "bob", "IsOnline": false,
		"IsNotifiable": false, "DateCreated": "2025-01-01T00:00:00Z", "DateUpdated": "2026-10-04T09:00:00Z"}),
	ce("participant.added", "EV4", "2026-10-05T09:00:00.100Z", map[string]any{"ConversationSid": "CHb1", "ParticipantSid": "MBb2",
		"Identity": "erin", "RoleSid": "RL1", "DateCreated": "2026-10-05T09:00:00Z"}),
	ce("message.added", "EV5", "2026-10-06T09:00:00.100Z", map[string]any{"ConversationSid": "CHb1", "MessageSid": "IMb1", "Index": 0,
		"Author": "+15550001", "ParticipantSid": "MBb1", "MessageBody": "hello", "DateCreated": "2026-10-06T09:00:00Z"}),
	ce("user.updated", "EV6", "2026-10-20T09:00:00.100Z", map[string]any{"UserSid": "USa1", "Identity": "alice", "IsOnline": true,
		"IsNotifiable": true, "DateCreated": "2025-01-01T00:00:00Z", "DateUpdated": "2025-01-01T00:00:00Z"}),
}

// octoberFigures is the October report's MAU, total and per service, as
// "total=N ISa=N ISb=N", with any unknown service.
func octoberFigures(t *testing.T, s *ingest.Store, scope analysis.Scope) string {
	t.Helper()
	set := analysis.DefaultSettings()
	set.Scope = scope
	m := monthReport(t, analyzer(t, s, set), oct2026)
	out := []string{"total=" + itoa(m.ActiveUsers)}
	return strings.Join(append(out, services(m)...), " ")
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// The account pulled with ingest twilio and then fed Event Streams
// CloudEvents of the real shape bills as the same activity reported by
// webhooks, service by service, and in either order of loading.
func TestEventStreamsWithASnapshotBillAsWebhooksDo(t *testing.T) {
	ctx := context.Background()
	load := func(t *testing.T, s *ingest.Store, lines []string) {
		t.Helper()
		res, err := s.LoadEvents(ctx, "october", strings.NewReader(strings.Join(lines, "\n")))
		if err != nil || len(res.Rejected) > 0 {
			t.Fatalf("load: %v %v", err, res.Rejected)
		}
	}
	build := func(t *testing.T, events []string, snapshotFirst bool) *ingest.Store {
		s := openStore(t)
		if snapshotFirst {
			pullSnapshot(t, s, twoServices())
			load(t, s, events)
		} else {
			load(t, s, events)
			pullSnapshot(t, s, twoServices())
		}
		return s
	}
	// alice (ISa), erin (ISa and ISb), bob (ISb), +15550001 (ISb)
	want := map[analysis.Scope]string{
		analysis.ScopeService: "total=5 ISb=3 ISa=2",
		analysis.ScopeAccount: "total=4 ISb=3 ISa=2",
	}
	for _, scope := range []analysis.Scope{analysis.ScopeService, analysis.ScopeAccount} {
		var reports []string
		for _, c := range []struct {
			name          string
			events        []string
			snapshotFirst bool
		}{
			{"webhooks after the snapshot", octoberAsWebhooks, true},
			{"webhooks before the snapshot", octoberAsWebhooks, false},
			{"Event Streams after the snapshot", octoberAsEventStreams, true},
			{"Event Streams before the snapshot", octoberAsEventStreams, false},
		} {
			got := octoberFigures(t, build(t, c.events, c.snapshotFirst), scope)
			if got != want[scope] {
				t.Errorf("scope %s, %s: %s, want %s", scope, c.name, got, want[scope])
			}
			reports = append(reports, got)
		}
		if len(slices.Compact(slices.Clone(reports))) != 1 {
			t.Errorf("scope %s: the sources disagree: %q", scope, reports)
		}
	}

	// Without the snapshot, the Event Streams activities have no service:
	// one line says so, and what fixes it.
	s := openStore(t, octoberAsEventStreams...)
	if got := octoberFigures(t, s, analysis.ScopeService); got != "total=4 unknown=4" {
		t.Errorf("Event Streams alone: %s, want total=4 unknown=4 (erin once)", got)
	}
}
