package analysis_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mauledger/mauledger/analysis"
)

// sharedEvents is an October of a thousand members, each added through
// REST to a conversation of its own and writing once from the app, five
// support agents answering 60 conversations each through REST, and:
//
//	guest          a web widget's one login: added to 200 conversations
//	support        a team's one login: writes from the app in 12
//	               conversations within three minutes
//	" Bob  Smith"  whitespace, in one conversation
//	undefined      a client's bug, renaming a conversation once
//	zoë@example.com a note (the @ of an email), nothing else
//
// The members' counts put the account's 99.9th percentile of conversations
// per identity at the agents' 60: agents are busy, not shared; guest's 200
// is more than three times that.
func sharedEvents() []string {
	var lines []string
	at := func(minutes int) string {
		return time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(minutes) * time.Minute).Format(time.RFC3339)
	}
	for i := range 1000 {
		member, conv := fmt.Sprintf("member-%04d", i), fmt.Sprintf("CHm%04d", i)
		lines = append(lines,
			ev("EventType", "onParticipantAdded", "Source", "API", "ConversationSid", conv, "ParticipantSid", "MBm"+conv,
				"Identity", member, "DateCreated", at(i*40)),
			ev("EventType", "onMessageAdded", "Source", "SDK", "ConversationSid", conv, "ClientIdentity", member,
				"Author", member, "ParticipantSid", "MBm"+conv, "MessageSid", "IMm"+conv, "Index", "0", "DateCreated", at(i*40+3)))
	}
	for a := range 5 {
		// The agents' User records, made in September, make them known
		// authors of the service.
		lines = append(lines, ev("EventType", "onUserAdded", "Source", "API", "UserSid", fmt.Sprintf("USa%d", a),
			"Identity", fmt.Sprintf("agent-%02d", a), "DateCreated", "2026-09-01T00:00:00Z", "ConversationSid", ""))
		for c := range 60 {
			lines = append(lines, ev("EventType", "onMessageAdded", "Source", "API", "ConversationSid", fmt.Sprintf("CHm%04d", a*60+c),
				"Author", fmt.Sprintf("agent-%02d", a), "MessageSid", fmt.Sprintf("IMa%d-%d", a, c), "Index", "1", "DateCreated", at((a*60+c)*40+9)))
		}
	}
	for c := range 200 {
		lines = append(lines, ev("EventType", "onParticipantAdded", "Source", "API", "ConversationSid", fmt.Sprintf("CHg%03d", c),
			"ParticipantSid", fmt.Sprintf("MBg%03d", c), "Identity", "guest", "DateCreated", at(c*200)))
	}
	burst := time.Date(2026, 10, 14, 9, 35, 0, 0, time.UTC)
	for c := range 12 {
		lines = append(lines, ev("EventType", "onMessageAdded", "Source", "SDK", "ConversationSid", fmt.Sprintf("CHm%04d", 500+c),
			"ClientIdentity", "support", "Author", "support", "MessageSid", fmt.Sprintf("IMs%02d", c), "Index", "2",
			"DateCreated", burst.Add(time.Duration(c)*15*time.Second).Format(time.RFC3339)))
	}
	return append(lines,
		ev("EventType", "onParticipantAdded", "Source", "API", "ConversationSid", "CHb", "ParticipantSid", "MBb", "Identity", " Bob  Smith", "DateCreated", at(100)),
		ev("EventType", "onConversationUpdated", "Source", "SDK", "ClientIdentity", "undefined", "DateUpdated", at(200)),
		ev("EventType", "onConversationUpdated", "Source", "SDK", "ClientIdentity", "zoë@example.com", "DateUpdated", at(300)),
	)
}

var octoberOnly = analysis.MonthRange{From: analysis.Month{Year: 2026, Month: 10}, To: analysis.Month{Year: 2026, Month: 10}}

func TestIdentityLintAndSharedIdentities(t *testing.T) {
	a := analyzer(t, openStore(t, sharedEvents()...), analysis.DefaultSettings())
	ids, err := a.Identities(context.Background(), octoberOnly, analysis.DefaultHygieneOptions())
	if err != nil {
		t.Fatal(err)
	}
	m := ids.Months[0]
	if m.Summary.Identities != 1010 {
		var some []string
		for _, s := range m.Subjects[:min(len(m.Subjects), 20)] {
			some = append(some, s.Identity)
		}
		t.Fatalf("%d identities billed, want 1,010: %q...", m.Summary.Identities, some)
	}
	var summary []string
	for _, l := range m.Summary.Lint {
		summary = append(summary, fmt.Sprintf("%s %s %d %s", l.Code, l.Severity, l.Identities, l.Example))
		if l.Fix == "" {
			t.Errorf("%s has no fix", l.Code)
		}
	}
	if want := []string{
		"reserved-characters note 1 zoë@example.com",
		"whitespace warning 1  Bob  Smith",
		"placeholder-bug warning 1 undefined",
		"generic warning 1 guest",
		"shared warning 2 guest",
	}; !slices.Equal(summary, want) {
		t.Errorf("October lint:\n got %q\nwant %q", summary, want)
	}

	lint := map[string][]analysis.LintFinding{}
	for _, s := range m.Subjects {
		if s.Lint == nil {
			t.Fatalf("%s: lint is nil, want a list", s.Identity)
		}
		if len(s.Lint) > 0 {
			lint[s.Identity] = s.Lint
		}
	}
	if len(lint) != 5 {
		t.Errorf("%d identities with findings, want 5: %v", len(lint), lint)
	}
	guest := lint["guest"]
	if len(guest) != 2 || guest[0].Code != analysis.LintGeneric || guest[1].Code != analysis.LintShared ||
		guest[1].Reason != "took part in 200 conversations this month, more than 3 times the account's 99.9th percentile (60)" {
		t.Errorf("guest: %+v", guest)
	}
	support := lint["support"]
	if len(support) != 1 || support[0].Reason != "wrote in 12 conversations between 2026-10-14 09:35 and 09:40 UTC" {
		t.Errorf("support: %+v", support)
	}
	for _, agent := range []string{"agent-00", "agent-04", "member-0500"} {
		if lint[agent] != nil {
			t.Errorf("%s is busy, not shared: %+v", agent, lint[agent])
		}
	}

	// --lint-only: the same summary, only the identities with findings.
	o := analysis.DefaultHygieneOptions()
	o.LintOnly = true
	only, err := a.Identities(context.Background(), octoberOnly, o)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, s := range only.Months[0].Subjects {
		listed = append(listed, s.Identity)
	}
	if want := []string{" Bob  Smith", "guest", "support", "undefined", "zoë@example.com"}; !only.LintOnly || !slices.Equal(listed, want) ||
		!slices.EqualFunc(only.Months[0].Summary.Lint, m.Summary.Lint, func(x, y analysis.LintFigures) bool { return x == y }) {
		t.Errorf("lint only: %v listed, want %v", listed, want)
	}

	// The report's hygiene carries the same lint.
	rep, err := a.Report(context.Background(), octoberOnly, analysis.ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Months[0].Hygiene.Lint, m.Summary.Lint) {
		t.Errorf("report lint %+v", rep.Months[0].Hygiene.Lint)
	}
}

// The percentile is the account's, over every service, and the floor of 50
// conversations holds however quiet the rest of the account is.
func TestSharedNeedsFiftyConversations(t *testing.T) {
	var lines []string
	for c := range 49 {
		lines = append(lines, ev("EventType", "onParticipantAdded", "Source", "API", "ConversationSid", fmt.Sprintf("CH%02d", c),
			"ParticipantSid", fmt.Sprintf("MB%02d", c), "Identity", "helpdesk", "DateCreated", fmt.Sprintf("2026-10-%02dT10:00:00Z", c%28+1)))
	}
	lines = append(lines, ev("EventType", "onParticipantAdded", "Source", "API", "ChatServiceSid", "IS2", "ConversationSid", "CHx",
		"ParticipantSid", "MBx", "Identity", "someone", "DateCreated", "2026-10-02T10:00:00Z"))
	a := analyzer(t, openStore(t, lines...), analysis.DefaultSettings())
	ids, err := a.Identities(context.Background(), octoberOnly, analysis.DefaultHygieneOptions())
	if err != nil {
		t.Fatal(err)
	}
	if l := ids.Months[0].Summary.Lint; len(l) != 0 {
		t.Errorf("49 conversations: %+v", l)
	}

	lines = append(lines, ev("EventType", "onParticipantAdded", "Source", "API", "ConversationSid", "CH49",
		"ParticipantSid", "MB49", "Identity", "helpdesk", "DateCreated", "2026-10-30T10:00:00Z"))
	a = analyzer(t, openStore(t, lines...), analysis.DefaultSettings())
	ids, err = a.Identities(context.Background(), octoberOnly, analysis.DefaultHygieneOptions())
	if err != nil {
		t.Fatal(err)
	}
	// Two identities: the percentile of the others is someone's one.
	for _, s := range ids.Months[0].Subjects {
		if s.Identity == "helpdesk" && (len(s.Lint) != 1 || !strings.Contains(s.Lint[0].Reason, "took part in 50 conversations") ||
			!strings.Contains(s.Lint[0].Reason, "percentile (1)")) {
			t.Errorf("50 conversations: %+v", s.Lint)
		}
	}
}

// With account scope an identity is one user across services, and keeps the
// shared finding of the service it was judged in.
func TestSharedWithAccountScope(t *testing.T) {
	settings := analysis.DefaultSettings()
	settings.Scope = analysis.ScopeAccount
	a := analyzer(t, openStore(t, sharedEvents()...), settings)
	ids, err := a.Identities(context.Background(), octoberOnly, analysis.HygieneOptions{OneShotWindow: time.Hour, ListSubjects: true, LintOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	shared := map[string]string{}
	for _, s := range ids.Months[0].Subjects {
		for _, f := range s.Lint {
			if f.Code == analysis.LintShared {
				shared[s.Identity] = f.Reason
			}
		}
	}
	if len(shared) != 2 || !strings.Contains(shared["guest"], "took part in 200 conversations") ||
		!strings.Contains(shared["support"], "wrote in 12 conversations") {
		t.Errorf("account scope: %v", shared)
	}
}
