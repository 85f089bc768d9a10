package analysis_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mauledger/mauledger/analysis"
)

// The seven inputs of issue 10, each a payload of the shape Twilio really
// sends that an earlier mauledger billed wrongly, and the answer it must
// give now.

var (
	oct2026 = analysis.Month{Year: 2026, Month: 10}
	nov2026 = analysis.Month{Year: 2026, Month: 11}
)

// monthReport is the report of one month under settings.
func monthReport(t *testing.T, a *analysis.Analyzer, m analysis.Month) analysis.MonthReport {
	t.Helper()
	rep, err := a.Report(context.Background(), analysis.MonthRange{From: m, To: m}, analysis.ReportOptions{Billed: true})
	if err != nil {
		t.Fatal(err)
	}
	return rep.Months[0]
}

// explained lists "service rule source origin timed_by evidence" of
// subject's activities in month m, in every service, oldest first.
func explained(t *testing.T, a *analysis.Analyzer, subject string, m analysis.Month) []string {
	t.Helper()
	return explainedAs(t, a, subject, m, func(act analysis.Activity) string {
		return fmt.Sprintf("%s %s %s %s %s %s", act.ServiceSID, act.Rule, act.Source, act.Origin, act.TimedBy, act.Evidence)
	})
}

// explainedAs lists subject's activities in month m, each as line says.
func explainedAs(t *testing.T, a *analysis.Analyzer, subject string, m analysis.Month, line func(analysis.Activity) string) []string {
	t.Helper()
	e, err := a.Explain(context.Background(), subject, m, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, svc := range e.Services {
		for _, act := range svc.Activities {
			got = append(got, line(act))
		}
	}
	return got
}

func services(m analysis.MonthReport) []string {
	var got []string
	for _, s := range m.Services {
		got = append(got, fmt.Sprintf("%s=%d", s.ServiceSID, s.ActiveUsers))
	}
	if m.ServiceUnknown != nil {
		got = append(got, fmt.Sprintf("unknown=%d", m.ServiceUnknown.ActiveUsers))
	}
	return got
}

// Input 1: a webhook onUserAdded and the Event Streams copy of the same
// action were 2 MAU, one of them in a service with a blank SID.
func TestInput1WebhookAndEventStreamsCopyOfAUserAddedAreOneUserInItsService(t *testing.T) {
	webhook := ev("EventType", "onUserAdded", "Source", "API", "ChatServiceSid", "IS1", "UserSid", "US9", "Identity", "carol",
		"DateCreated", "2026-10-01T09:00:00Z", "_received_at", "2026-10-01T09:00:00.300Z")
	copy := ce("user.added", "EV1", "2026-10-01T09:00:00.050Z", map[string]any{"UserSid": "US9", "Identity": "carol",
		"FriendlyName": "Carol", "RoleSid": "RL1", "Attributes": "{}", "DateCreated": "2026-10-01T09:00:00Z"})
	for name, order := range map[string][]string{"webhook first": {webhook, copy}, "copy first": {copy, webhook}} {
		t.Run(name, func(t *testing.T) {
			s := openStore(t, order[0])
			if _, err := s.LoadEvents(context.Background(), "second", strings.NewReader(order[1])); err != nil {
				t.Fatal(err)
			}
			a := analyzer(t, s, analysis.DefaultSettings())
			m := monthReport(t, a, oct2026)
			if m.ActiveUsers != 1 || !slices.Equal(services(m), []string{"IS1=1"}) {
				t.Errorf("%d MAU in %v, want 1 in IS1 and no unknown service", m.ActiveUsers, services(m))
			}
			want := []string{"IS1 rest.user_write webhook API time US9"}
			if got := explained(t, a, "carol", oct2026); !slices.Equal(got, want) {
				t.Errorf("carol's activities %q, want %q", got, want)
			}
		})
	}
}

// Input 2: user.updated with IsOnline false and a DateUpdated of the month
// (a backend renamed the user) was not billed; every Event Streams
// user.updated carries IsOnline. The same for a webhook with Source API.
func TestInput2UserUpdatedWithIsOnlineFalseIsBilledAsAWrite(t *testing.T) {
	user := func(sid, identity string) string {
		return ev("EventType", "onUserAdded", "Source", "API", "UserSid", sid, "Identity", identity, "DateCreated", "2026-08-01T00:00:00Z")
	}
	updated := func(id, sid, identity string, online bool, time, dateUpdated string) string {
		return ce("user.updated", id, time, map[string]any{"UserSid": sid, "Identity": identity, "FriendlyName": identity,
			"RoleSid": "RL1", "Attributes": `{"tier":"gold"}`, "IsOnline": online, "IsNotifiable": false,
			"DateCreated": "2026-08-01T00:00:00Z", "DateUpdated": dateUpdated})
	}
	s := openStore(t,
		user("US1", "dora"), user("US2", "erin"), user("US3", "frank"), user("US4", "gus"),
		// renamed by the backend: DateUpdated is the event's time
		updated("EV1", "US1", "dora", false, "2026-10-12T08:00:00.300Z", "2026-10-12T08:00:00Z"),
		// the same, reported by a webhook
		ev("EventType", "onUserUpdated", "Source", "API", "UserSid", "US2", "Identity", "erin", "IsOnline", "false",
			"DateCreated", "2026-08-01T00:00:00Z", "DateUpdated", "2026-10-13T08:00:00Z", "_received_at", "2026-10-13T08:00:00.800Z"),
		// going offline: DateUpdated is its last real update
		updated("EV3", "US3", "frank", false, "2026-10-14T08:00:00Z", "2026-08-01T00:00:00Z"),
		// coming online: a connection at the event's time
		updated("EV4", "US4", "gus", true, "2026-10-15T08:00:00Z", "2026-08-01T00:00:00Z"),
	)
	a := analyzer(t, s, analysis.DefaultSettings())
	for subject, want := range map[string][]string{
		"dora":  {"IS1 rest.user_write event_stream  time US1"},
		"erin":  {"IS1 rest.user_write webhook API received_at US2"},
		"frank": nil,
		"gus":   {"IS1 sdk.connect event_stream  time US4"},
	} {
		if got := explained(t, a, subject, oct2026); !slices.Equal(got, want) {
			t.Errorf("%s in October: %q, want %q", subject, got, want)
		}
	}
}

// Input 3: a message whose Author is an identity or a phone number and
// which carries a ParticipantSid, by a participant who joined before
// capture started, was not billed (an "unknown author").
func TestInput3ParticipantAuthorIsBilledWithoutItsJoin(t *testing.T) {
	message := func(id, sid, author, participant string) string {
		return ce("message.added", id, "2026-10-20T12:00:00Z", map[string]any{"ConversationSid": "CH1", "MessageSid": sid,
			"Author": author, "ParticipantSid": participant, "Index": 3, "MessageBody": "hello", "MessageSubject": nil,
			"MessagingServiceSid": "MG1", "ContentSid": nil, "Media": nil, "DateCreated": "2026-10-20T12:00:00Z"})
	}
	s := openStore(t,
		// the conversation and its service, known from a webhook of months before
		ev("EventType", "onConversationAdded", "Source", "API", "DateCreated", "2026-06-01T00:00:00Z"),
		message("EV1", "IM1", "gina", "MB7"),
		message("EV2", "IM2", "+15550001111", "MB8"),
		message("EV3", "IM3", "whatsapp:+447700900555", "MB9"),
	)
	a := analyzer(t, s, analysis.DefaultSettings())
	m := monthReport(t, a, oct2026)
	if m.ActiveUsers != 3 || m.Identities != 1 || m.Addresses != 2 || m.DataQuality.UnknownAuthorMessages != 0 {
		t.Errorf("October: %d users (%d identities, %d addresses), %d unknown-author messages; want 3 (1, 2), 0",
			m.ActiveUsers, m.Identities, m.Addresses, m.DataQuality.UnknownAuthorMessages)
	}
	for subject, want := range map[string]string{
		"gina":                   "IS1 rest.message_author event_stream  time IM1",
		"+15550001111":           "IS1 channel.inbound_message event_stream  time IM2",
		"whatsapp:+447700900555": "IS1 channel.inbound_message event_stream  time IM3",
	} {
		if got := explained(t, a, subject, oct2026); !slices.Equal(got, []string{want}) {
			t.Errorf("%s: %q, want %q", subject, got, want)
		}
	}
}

// Input 4: onParticipantRemoved received on 2026-11-05 whose DateUpdated,
// 2026-08-01, is the participant's last update, was billed in August.
func TestInput4RemovalIsTimedByItsReceiptNotItsLastUpdate(t *testing.T) {
	s := openStore(t, ev("EventType", "onParticipantRemoved", "Source", "API", "ParticipantSid", "MB9", "Identity", "hank",
		"RoleSid", "RL1", "DateCreated", "2026-07-01T00:00:00Z", "DateUpdated", "2026-08-01T00:00:00Z",
		"_received_at", "2026-11-05T10:00:00.123456Z"))
	a := analyzer(t, s, analysis.DefaultSettings())
	if got := explained(t, a, "hank", nov2026); !slices.Equal(got, []string{"IS1 rest.participant_write webhook API received_at MB9"}) {
		t.Errorf("November: %q", got)
	}
	if m := monthReport(t, a, analysis.Month{Year: 2026, Month: 8}); m.ActiveUsers != 0 {
		t.Errorf("August billed %d users", m.ActiveUsers)
	}
}

// Input 5: a message.added with CloudEvent time 2026-11-07 and DateCreated
// 2024-03-01 (imported through the REST API, which lets the caller set
// DateCreated) was billed in March 2024.
func TestInput5ImportedMessageIsTimedByTheCloudEventTime(t *testing.T) {
	s := openStore(t,
		ev("EventType", "onUserAdded", "Source", "API", "UserSid", "US1", "Identity", "ivy", "DateCreated", "2026-01-01T00:00:00Z"),
		ce("message.added", "EV1", "2026-11-07T15:00:00Z", map[string]any{"ConversationSid": "CH1", "MessageSid": "IM1",
			"Author": "ivy", "ParticipantSid": nil, "Index": 0, "MessageBody": "imported", "DateCreated": "2024-03-01T00:00:00Z"}))
	a := analyzer(t, s, analysis.DefaultSettings())
	if got := explained(t, a, "ivy", nov2026); !slices.Equal(got, []string{"IS1 rest.message_author event_stream  time IM1"}) {
		t.Errorf("November 2026: %q", got)
	}
	if m := monthReport(t, a, analysis.Month{Year: 2024, Month: 3}); m.ActiveUsers != 0 {
		t.Errorf("March 2024 billed %d users", m.ActiveUsers)
	}
}

// Input 6: one SDK message reported by its webhook and by Event Streams was
// counted under both sdk and rest, explained as two activities, and the
// hygiene findings counted it twice.
func TestInput6OneActionReportedTwiceIsOneActivity(t *testing.T) {
	s := openStore(t,
		// alice's SDK message
		ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "alice", "Author", "alice", "ParticipantSid", "MB1",
			"MessageSid", "IM1", "Index", "0", "Body", "hi", "DateCreated", "2026-10-07T10:00:00Z", "_received_at", "2026-10-07T10:00:00.400Z"),
		ce("message.added", "EV1", "2026-10-07T10:00:00.100Z", map[string]any{"ConversationSid": "CH1", "MessageSid": "IM1",
			"Author": "alice", "ParticipantSid": "MB1", "Index": 0, "MessageBody": "hi", "DateCreated": "2026-10-07T10:00:00Z"}),
		// bob only moves his read horizon from the SDK: connect-only
		ev("EventType", "onParticipantUpdated", "Source", "SDK", "ClientIdentity", "bob", "Identity", "bob", "ParticipantSid", "MB2",
			"LastReadMessageIndex", "0", "DateCreated", "2026-09-01T00:00:00Z", "DateUpdated", "2026-10-08T10:00:00Z", "_received_at", "2026-10-08T10:00:00.500Z"),
		ce("participant.updated", "EV2", "2026-10-08T10:00:00.050Z", map[string]any{"ConversationSid": "CH1", "ParticipantSid": "MB2",
			"Identity": "bob", "RoleSid": "RL1", "DateCreated": "2026-09-01T00:00:00Z", "DateUpdated": "2026-10-08T10:00:00Z"}),
		// carol's User record is updated by the backend: REST-write-only
		ev("EventType", "onUserUpdated", "Source", "API", "UserSid", "US3", "Identity", "carol", "IsOnline", "false",
			"DateCreated", "2026-01-01T00:00:00Z", "DateUpdated", "2026-10-09T10:00:00Z", "_received_at", "2026-10-09T10:00:00.500Z"),
		ce("user.updated", "EV3", "2026-10-09T10:00:00.050Z", map[string]any{"UserSid": "US3", "Identity": "carol", "IsOnline": false,
			"IsNotifiable": false, "DateCreated": "2026-01-01T00:00:00Z", "DateUpdated": "2026-10-09T10:00:00Z"}),
	)
	a := analyzer(t, s, analysis.DefaultSettings())
	m := monthReport(t, a, oct2026)
	if m.ActiveUsers != 3 || m.ByFamily["sdk"] != 2 || m.ByFamily["rest"] != 1 || m.ByRule["rest.message_author"] != 0 ||
		m.ByRule["sdk.message"] != 1 || m.ByRule["sdk.connect"] != 1 || m.ByRule["rest.user_write"] != 1 {
		t.Errorf("October: %d users, by family %v, by rule %v", m.ActiveUsers, m.ByFamily, m.ByRule)
	}
	if got := explained(t, a, "alice", oct2026); !slices.Equal(got, []string{"IS1 sdk.message webhook SDK time IM1"}) {
		t.Errorf("alice: %q", got)
	}
	if av := m.Hygiene.Avoidable; av.ConnectOnly.Subjects != 1 || av.RESTWriteOnly.Subjects != 1 {
		t.Errorf("avoidable: %d connect-only, %d REST-write-only; want 1 and 1", av.ConnectOnly.Subjects, av.RESTWriteOnly.Subjects)
	}
	var rows int
	if err := s.DB.QueryRow(`SELECT count(*) FROM activity_ledger`).Scan(&rows); err != nil || rows != 3 {
		t.Errorf("the ledger holds %d rows (%v), want 3: one per action", rows, err)
	}
}

// Input 7: 5,001 users cost "240.0475", and 150 avoidable users of 300 were
// priced at 7.50 where the bill would only drop from 5.00 to 0.00. (The
// price table's rounding and savings are pinned one by one in
// pricing_test.go; this is the report end to end.)
func TestInput7AvoidableActivityCostsWhatTheBillWouldDrop(t *testing.T) {
	var lines []string
	for i := range 300 {
		if i < 150 { // connect only
			updated := fmt.Sprintf("2026-10-05T10:%02d:%02dZ", i/60, i%60)
			lines = append(lines, ev("EventType", "onConversationUpdated", "Source", "SDK", "ClientIdentity", fmt.Sprintf("user-%03d", i),
				"DateUpdated", updated, "_received_at", updated))
			continue
		}
		lines = append(lines, ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", fmt.Sprintf("user-%03d", i),
			"MessageSid", fmt.Sprintf("IM%03d", i), "DateCreated", "2026-10-05T11:00:00Z"))
	}
	m := monthReport(t, analyzer(t, openStore(t, lines...), analysis.DefaultSettings()), oct2026)
	if m.ActiveUsers != 300 || m.Cost.Total != 5.00 {
		t.Fatalf("%d users cost %v, want 300 and 5.00", m.ActiveUsers, m.Cost.Total)
	}
	if av := m.Hygiene.Avoidable; av.ConnectOnly.Subjects != 150 || av.ConnectOnly.Cost != 5.00 || av.Cost != 5.00 {
		t.Errorf("avoidable: %d connect-only costing %v (all: %v), want 150 costing 5.00", av.ConnectOnly.Subjects, av.ConnectOnly.Cost, av.Cost)
	}
}

// Activities whose service nothing tells are their own line, "service
// unknown", never a blank SID; and a subject with a known service in the
// month counts there only.
func TestServiceUnknownIsItsOwnLineAndNeverCountsASubjectTwice(t *testing.T) {
	unknownConv := func(id, sid, author string) string {
		return ce("message.added", id, "2026-10-10T00:00:00Z", map[string]any{"ConversationSid": "CH9", "MessageSid": sid,
			"Author": author, "ParticipantSid": "MB" + sid, "Index": 0, "MessageBody": "x", "DateCreated": "2026-10-10T00:00:00Z"})
	}
	s := openStore(t,
		ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "alice", "MessageSid", "IM1", "DateCreated", "2026-10-07T00:00:00Z"),
		unknownConv("EV1", "IM2", "alice"), // alice, in a conversation nobody placed
		unknownConv("EV2", "IM3", "zoe"),   // zoe, seen nowhere else
	)
	for _, scope := range []analysis.Scope{analysis.ScopeService, analysis.ScopeAccount} {
		set := analysis.DefaultSettings()
		set.Scope = scope
		m := monthReport(t, analyzer(t, s, set), oct2026)
		if m.ActiveUsers != 2 || !slices.Equal(services(m), []string{"IS1=1", "unknown=1"}) {
			t.Errorf("scope %s: %d MAU in %v, want 2: alice in IS1, zoe in an unknown service", scope, m.ActiveUsers, services(m))
		}
		if m.ServiceUnknown != nil && !strings.Contains(m.ServiceUnknown.Fix, "ingest twilio") {
			t.Errorf("the unknown service's fix %q does not name ingest twilio", m.ServiceUnknown.Fix)
		}
		r, err := analyzer(t, s, set).Reconcile(context.Background(), oct2026)
		if err != nil {
			t.Fatal(err)
		}
		if r.ServiceScopeMAU != 2 || r.AccountScopeMAU != 2 {
			t.Errorf("scope %s: reconcile counts %d per service, %d per account; want 2 and 2, as the report",
				scope, r.ServiceScopeMAU, r.AccountScopeMAU)
		}
	}
}

// With --unknown-authors, finance sees both figures: an author nobody
// knows is a data-quality finding by default, and billed when asked.
func TestUnknownAuthorsIsAStatedSetting(t *testing.T) {
	s := openStore(t,
		ev("EventType", "onMessageAdded", "Source", "API", "Author", "crm-sync", "MessageSid", "IM1", "DateCreated", "2026-10-03T00:00:00Z"),
		ev("EventType", "onMessageAdded", "Source", "API", "Author", "+15550009999", "MessageSid", "IM2", "DateCreated", "2026-10-03T00:00:00Z"),
		ev("EventType", "onMessageAdded", "Source", "API", "Author", "system", "MessageSid", "IM3", "DateCreated", "2026-10-03T00:00:00Z"),
	)
	for _, tt := range []struct {
		setting                      analysis.UnknownAuthors
		users, identities, addresses int
	}{
		{analysis.UnknownAuthorsIgnore, 0, 0, 0},
		{analysis.UnknownAuthorsBill, 2, 1, 1},
	} {
		set := analysis.DefaultSettings()
		set.UnknownAuthors = tt.setting
		a := analyzer(t, s, set)
		m := monthReport(t, a, oct2026)
		if m.ActiveUsers != tt.users || m.Identities != tt.identities || m.Addresses != tt.addresses {
			t.Errorf("%s: %d users (%d identities, %d addresses), want %d (%d, %d)", tt.setting,
				m.ActiveUsers, m.Identities, m.Addresses, tt.users, tt.identities, tt.addresses)
		}
		if dq := m.DataQuality; dq.UnknownAuthorMessages != 2 || dq.SystemMessages != 1 {
			t.Errorf("%s: data quality %+v, want 2 unknown-author and 1 system message whatever the setting", tt.setting, dq)
		}
		if about := a.About(); about.UnknownAuthors != tt.setting || !strings.Contains(strings.Join(about.Assumptions, " "), "Unknown authors "+string(tt.setting)) {
			t.Errorf("%s: About does not state it: %+v", tt.setting, about)
		}
	}
}
