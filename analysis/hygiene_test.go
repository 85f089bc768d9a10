package analysis_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/mauledger/mauledger/analysis"
)

const (
	guest1 = "guest-0f8fad5b-d9cb-469f-a165-70867728950e"
	guest2 = "guest-7c9e6679-7425-40de-944b-e07fc1f90ae7"
	guest3 = "guest-16fd2706-8baf-433b-82eb-8c7fada847da"
	guest4 = "guest-886313e1-3b8a-4372-9b90-0c9aee199e5d"
	anon   = "anon:3f2a9c1b7e4d5f60a1b2c3d4e5f60718"
)

// hygieneEvents is a hand-made account. In October, IS1 bills 14 subjects:
//
//	alice@example.com          sdk.message, billed in September too: returning
//	Alice@Example.com          sdk.connect only: one-shot, duplicate of alice
//	alice+news@example.com     rest.user_write only: one-shot, duplicate of alice
//	dave                       sdk.connect only; billed in August: reactivated
//	guest1                     a User created and a connection 2 h later: one-shot random
//	guest2                     two connections 48 h apart: random, not one-shot (24 h)
//	guest3                     sends a message: random, never one-shot
//	guest4                     connects in October and November: random, not one-shot
//	anon                       rest.user_write only: one-shot random
//	user_1042                  sdk.connect only: one-shot, not random
//	+1 (555) 222-0002          an identity connecting once: one-shot, duplicate of the address
//	+15551110001               address, inbound SMS, in September too: returning
//	+15552220002               address added and silent
//	whatsapp:+447700900001     address added, then writes in
//
// and IS2 bills "zed". September bills alice, bob, carol and +15551110001;
// bob and carol are gone in October (churned).
var hygieneEvents = []string{
	ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "dave", "Author", "dave", "MessageSid", "IM0", "DateCreated", "2026-08-20T00:00:00Z"),
	ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "alice@example.com", "Author", "alice@example.com", "MessageSid", "IM1", "DateCreated", "2026-09-02T00:00:00Z"),
	ev("EventType", "onUserAdded", "Source", "API", "UserSid", "US1", "Identity", "bob", "DateCreated", "2026-09-03T00:00:00Z"),
	ev("EventType", "onConversationUpdated", "Source", "SDK", "ClientIdentity", "carol", "DateUpdated", "2026-09-04T00:00:00Z"),
	ev("EventType", "onMessageAdded", "Source", "SMS", "Author", "+15551110001", "MessageSid", "IM2", "DateCreated", "2026-09-05T00:00:00Z"),

	ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", "alice@example.com", "Author", "alice@example.com", "MessageSid", "IM3", "DateCreated", "2026-10-02T00:00:00Z"),
	ev("EventType", "onConversationUpdated", "Source", "SDK", "ClientIdentity", "Alice@Example.com", "DateUpdated", "2026-10-02T01:00:00Z"),
	ev("EventType", "onUserAdded", "Source", "API", "UserSid", "US2", "Identity", "alice+news@example.com", "DateCreated", "2026-10-02T02:00:00Z"),
	ev("EventType", "onConversationUpdated", "Source", "SDK", "ClientIdentity", "dave", "DateUpdated", "2026-10-03T00:00:00Z"),
	ev("EventType", "onUserAdded", "Source", "API", "UserSid", "US3", "Identity", guest1, "DateCreated", "2026-10-05T10:00:00Z"),
	ev("EventType", "onConversationUpdated", "Source", "SDK", "ClientIdentity", guest1, "DateUpdated", "2026-10-05T12:00:00Z"),
	ev("EventType", "onConversationUpdated", "Source", "SDK", "ClientIdentity", guest2, "DateUpdated", "2026-10-06T00:00:00Z"),
	ev("EventType", "onConversationUpdated", "Source", "SDK", "ClientIdentity", guest2, "DateUpdated", "2026-10-08T00:00:00Z"),
	ev("EventType", "onMessageAdded", "Source", "SDK", "ClientIdentity", guest3, "Author", guest3, "MessageSid", "IM4", "DateCreated", "2026-10-07T00:00:00Z"),
	ev("EventType", "onConversationUpdated", "Source", "SDK", "ClientIdentity", guest4, "DateUpdated", "2026-10-31T23:00:00Z"),
	ev("EventType", "onUserAdded", "Source", "API", "UserSid", "US4", "Identity", anon, "DateCreated", "2026-10-10T00:00:00Z"),
	ev("EventType", "onConversationUpdated", "Source", "SDK", "ClientIdentity", "user_1042", "DateUpdated", "2026-10-11T00:00:00Z"),
	ev("EventType", "onConversationUpdated", "Source", "SDK", "ClientIdentity", "+1 (555) 222-0002", "DateUpdated", "2026-10-12T00:00:00Z"),
	ev("EventType", "onMessageAdded", "Source", "SMS", "Author", "+15551110001", "MessageSid", "IM5", "DateCreated", "2026-10-13T00:00:00Z"),
	ev("EventType", "onParticipantAdded", "Source", "API", "MessagingBinding.Address", "+15552220002", "ParticipantSid", "MB1", "DateCreated", "2026-10-14T00:00:00Z"),
	ev("EventType", "onParticipantAdded", "Source", "API", "ConversationSid", "CH2", "MessagingBinding.Address", "whatsapp:+447700900001", "ParticipantSid", "MB2", "DateCreated", "2026-10-15T00:00:00Z"),
	ev("EventType", "onMessageAdded", "Source", "WHATSAPP", "ConversationSid", "CH2", "Author", "whatsapp:+447700900001", "MessageSid", "IM6", "DateCreated", "2026-10-15T01:00:00Z"),
	ev("EventType", "onMessageAdded", "Source", "SDK", "ChatServiceSid", "IS2", "ConversationSid", "CH9", "ClientIdentity", "zed", "Author", "zed", "MessageSid", "IM7", "DateCreated", "2026-10-16T00:00:00Z"),

	ev("EventType", "onConversationUpdated", "Source", "SDK", "ClientIdentity", guest4, "DateUpdated", "2026-11-01T00:30:00Z"),
}

// tenFree: the first ten users free, then 0.50 each, so that the hand-made
// account's marginal rate is not zero.
var tenFree = analysis.PriceTable{Name: "ten free", Currency: "USD", Bands: []analysis.PriceBand{
	{From: 1, To: 10, Rate: 0}, {From: 11, Rate: 0.5},
}}

func hygieneAnalyzer(t *testing.T) *analysis.Analyzer {
	t.Helper()
	settings := analysis.DefaultSettings()
	settings.Prices = tenFree
	return analyzer(t, openStore(t, hygieneEvents...), settings)
}

var sepToNov = analysis.MonthRange{From: analysis.Month{Year: 2026, Month: 9}, To: analysis.Month{Year: 2026, Month: 11}}

func TestHygieneCountsOnAHandMadeLedger(t *testing.T) {
	ids, err := hygieneAnalyzer(t).Identities(context.Background(), sepToNov, analysis.DefaultHygieneOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(ids.Months) != 3 || ids.Schema != "mauledger.identities/v1" || ids.OneShotWindow != "24h0m0s" {
		t.Fatalf("%+v", ids)
	}
	sep, oct, nov := ids.Months[0].Summary, ids.Months[1].Summary, ids.Months[2].Summary

	if sep.ActiveUsers != 4 || sep.Churn != (analysis.Churn{New: 4, Churned: 1}) {
		t.Errorf("September: %d users, churn %+v; want 4 new and dave churned", sep.ActiveUsers, sep.Churn)
	}
	want := analysis.Hygiene{
		ActiveUsers: 15, Identities: 12, RandomIdentities: 5, OneShot: 6, OneShotRandom: 2,
		Churn: analysis.Churn{New: 12, Returning: 2, Reactivated: 1, Churned: 2, NewRandom: 5, RandomChurnRate: 0.3333},
	}
	got := oct
	got.Shapes, got.Duplicates, got.Avoidable, got.WhatIf = nil, analysis.Duplicates{}, analysis.Avoidable{}, analysis.WhatIf{}
	if !equalHygiene(got, want) {
		t.Errorf("October counts:\n got %+v\nwant %+v", got, want)
	}
	var shapes []string
	for _, s := range oct.Shapes {
		shapes = append(shapes, s.Pattern)
	}
	if want := []string{"guest-{uuid}", "{email}", "{name}", "anon:{hex32}", "user_{int}", "{e164}"}; !slices.Equal(shapes, want) {
		t.Errorf("October shapes %v, want %v", shapes, want)
	}
	if g := oct.Shapes[0]; g.Subjects != 4 || g.New != 4 || !g.Random || g.Reason != "UUID" || g.Share != 0.2667 || g.ChurnRate != 0.2667 || g.Example != guest1 {
		t.Errorf("guest shape %+v", g)
	}
	if e := oct.Shapes[1]; e.Subjects != 3 || e.New != 2 || e.Random || e.Example != "Alice@Example.com" {
		t.Errorf("email shape %+v", e)
	}

	// 3 extra users of 15 leave 12: 2.50 − 1.00 = 1.50.
	d := oct.Duplicates
	if d.GroupCount != 2 || d.ExtraUsers != 3 || d.Cost != 1.5 || len(d.Groups) != 2 {
		t.Fatalf("October duplicates %+v", d)
	}
	if g := d.Groups[0]; g.Key != "alice@example.com" || g.ExtraUsers != 2 || g.ServiceSID != "IS1" || !slices.Equal(g.Members, []analysis.DuplicateMember{
		{Kind: "identity", Subject: "Alice@Example.com"}, {Kind: "identity", Subject: "alice+news@example.com"}, {Kind: "identity", Subject: "alice@example.com"},
	}) {
		t.Errorf("first group %+v", g)
	}
	if g := d.Groups[1]; g.Key != "+15552220002" || g.ExtraUsers != 1 || !slices.Equal(g.Members, []analysis.DuplicateMember{
		{Kind: "address", Subject: "+15552220002"}, {Kind: "identity", Subject: "+1 (555) 222-0002"},
	}) {
		t.Errorf("second group %+v", g)
	}

	// October's 15 users cost 2.50 (ten free, five at 0.50). Each figure
	// is what the bill drops by without its subjects: 6 connect-only users
	// leave 9, all free, so they save the whole 2.50 (not 6 × 0.50 = 3);
	// 2 leave 13 (1.50), saving 1.00; 1 leaves 14 (2.00), saving 0.50; the
	// 9 together leave 6, all free: 2.50, not 4.50.
	wantAvoidable := analysis.Avoidable{
		Currency: "USD", MarginalRate: 0.5,
		ConnectOnly:     analysis.AvoidableFigure{Subjects: 6, Cost: 2.5},
		RESTWriteOnly:   analysis.AvoidableFigure{Subjects: 2, Cost: 1},
		SilentAddresses: analysis.AvoidableFigure{Subjects: 1, Cost: 0.5},
		Cost:            2.5,
	}
	if oct.Avoidable != wantAvoidable {
		t.Errorf("October avoidable %+v, want %+v", oct.Avoidable, wantAvoidable)
	}
	if w := (analysis.WhatIf{OneShotRandom: 2, ActiveUsers: 15, Cost: 2.5, ActiveUsersWithout: 13, CostWithout: 1.5, Saving: 1}); oct.WhatIf != w {
		t.Errorf("October what-if %+v, want %+v", oct.WhatIf, w)
	}

	// November: guest4 returns, the 14 others of October are gone.
	if nov.ActiveUsers != 1 || nov.Churn != (analysis.Churn{Returning: 1, Churned: 14}) || nov.Avoidable.MarginalRate != 0 {
		t.Errorf("November %+v", nov)
	}
}

func equalHygiene(a, b analysis.Hygiene) bool {
	return a.ActiveUsers == b.ActiveUsers && a.Identities == b.Identities && a.RandomIdentities == b.RandomIdentities &&
		a.OneShot == b.OneShot && a.OneShotRandom == b.OneShotRandom && a.Churn == b.Churn
}

func TestIdentitiesListEachBilledIdentityWithItsVerdicts(t *testing.T) {
	oct := analysis.MonthRange{From: analysis.Month{Year: 2026, Month: 10}, To: analysis.Month{Year: 2026, Month: 10}}
	ids, err := hygieneAnalyzer(t).Identities(context.Background(), oct, analysis.DefaultHygieneOptions())
	if err != nil {
		t.Fatal(err)
	}
	subjects := map[string]analysis.IdentitySubject{}
	for _, s := range ids.Months[0].Subjects {
		subjects[s.Identity] = s
	}
	if len(subjects) != 12 {
		t.Fatalf("%d identities listed, want 12 (addresses are not listed)", len(subjects))
	}
	alice := "alice@example.com"
	for _, want := range []analysis.IdentitySubject{
		{ServiceSID: "IS1", Identity: guest1, Shape: analysis.Shape{Pattern: "guest-{uuid}", Random: true, Reason: "UUID"}, OneShot: true, Status: "new"},
		{ServiceSID: "IS1", Identity: guest2, Shape: analysis.Shape{Pattern: "guest-{uuid}", Random: true, Reason: "UUID"}, Status: "new", Avoidable: "connect_only"},
		{ServiceSID: "IS1", Identity: "Alice@Example.com", Shape: analysis.Shape{Pattern: "{email}", Reason: "email address"}, OneShot: true, DuplicateGroup: &alice, Status: "new", Avoidable: "connect_only"},
		{ServiceSID: "IS1", Identity: anon, Shape: analysis.Shape{Pattern: "anon:{hex32}", Random: true, Reason: "hex token"}, OneShot: true, Status: "new", Avoidable: "rest_write_only"},
		{ServiceSID: "IS1", Identity: "dave", Shape: analysis.Shape{Pattern: "{name}", Reason: "plain name"}, Status: "reactivated", Avoidable: "connect_only"},
		{ServiceSID: "IS2", Identity: "zed", Shape: analysis.Shape{Pattern: "{name}", Reason: "plain name"}, Status: "new"},
	} {
		got := subjects[want.Identity]
		if got.ServiceSID != want.ServiceSID || got.Shape != want.Shape || got.OneShot != want.OneShot ||
			(got.DuplicateGroup == nil) != (want.DuplicateGroup == nil) ||
			(got.DuplicateGroup != nil && *got.DuplicateGroup != *want.DuplicateGroup) ||
			got.Status != want.Status || got.Avoidable != want.Avoidable {
			t.Errorf("%s:\n got %+v\nwant %+v", want.Identity, got, want)
		}
	}
}

func TestHygieneOptionsWindowAndService(t *testing.T) {
	a := hygieneAnalyzer(t)
	oct := analysis.MonthRange{From: analysis.Month{Year: 2026, Month: 10}, To: analysis.Month{Year: 2026, Month: 10}}
	ids, err := a.Identities(context.Background(), oct, analysis.HygieneOptions{OneShotWindow: 72 * time.Hour, ServiceSID: "IS1", ListSubjects: true})
	if err != nil {
		t.Fatal(err)
	}
	h := ids.Months[0].Summary
	// guest2's two connections 48 h apart now fit the window; zed's
	// service is left out of the findings but not out of the account's MAU.
	if h.OneShot != 7 || h.OneShotRandom != 3 || h.ActiveUsers != 14 || h.Identities != 11 ||
		h.WhatIf.ActiveUsers != 15 || h.WhatIf.ActiveUsersWithout != 12 || h.Avoidable.MarginalRate != 0.5 {
		t.Errorf("72 h window, IS1 only: %+v", h)
	}
	if len(ids.Months[0].Subjects) != 11 {
		t.Errorf("%d identities listed, want IS1's 11", len(ids.Months[0].Subjects))
	}
	for _, s := range ids.Months[0].Subjects {
		if s.ServiceSID != "IS1" {
			t.Errorf("listed %s of %s", s.Identity, s.ServiceSID)
		}
	}
}

func TestReportCarriesTheHygieneSummary(t *testing.T) {
	a := hygieneAnalyzer(t)
	oct := analysis.MonthRange{From: analysis.Month{Year: 2026, Month: 10}, To: analysis.Month{Year: 2026, Month: 10}}
	rep, err := a.Report(context.Background(), oct, analysis.ReportOptions{Billed: true})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := a.Identities(context.Background(), oct, analysis.DefaultHygieneOptions())
	if err != nil {
		t.Fatal(err)
	}
	h := rep.Months[0].Hygiene
	if h.ActiveUsers != rep.Months[0].ActiveUsers || h.OneShotRandom != 2 || h.Duplicates.ExtraUsers != 3 ||
		h.WhatIf.Cost != rep.Months[0].Cost.Total || h.Avoidable != ids.Months[0].Summary.Avoidable {
		t.Errorf("report hygiene %+v", h)
	}
}

func TestIdentitiesWithoutTheListHaveTheSameFindings(t *testing.T) {
	a := hygieneAnalyzer(t)
	listed, err := a.Identities(context.Background(), sepToNov, analysis.DefaultHygieneOptions())
	if err != nil {
		t.Fatal(err)
	}
	o := analysis.DefaultHygieneOptions()
	o.ListSubjects = false
	bare, err := a.Identities(context.Background(), sepToNov, o)
	if err != nil {
		t.Fatal(err)
	}
	for i := range bare.Months {
		if len(bare.Months[i].Subjects) != 0 || bare.Months[i].Summary.Churn != listed.Months[i].Summary.Churn ||
			bare.Months[i].Summary.WhatIf != listed.Months[i].Summary.WhatIf {
			t.Errorf("%s: %+v\nwith the list: %+v", bare.Months[i].Month, bare.Months[i].Summary, listed.Months[i].Summary)
		}
	}
}

func TestHygieneWithAccountScopeCountsAnIdentityOnce(t *testing.T) {
	settings := analysis.DefaultSettings()
	settings.Scope = analysis.ScopeAccount
	a := analyzer(t, openStore(t,
		ev("EventType", "onUserAdded", "Source", "API", "ChatServiceSid", "IS1", "UserSid", "US1", "Identity", guest1, "DateCreated", "2026-10-01T00:00:00Z"),
		ev("EventType", "onUserAdded", "Source", "API", "ChatServiceSid", "IS2", "UserSid", "US2", "Identity", guest1, "DateCreated", "2026-10-01T01:00:00Z"),
	), settings)
	oct := analysis.MonthRange{From: analysis.Month{Year: 2026, Month: 10}, To: analysis.Month{Year: 2026, Month: 10}}
	ids, err := a.Identities(context.Background(), oct, analysis.DefaultHygieneOptions())
	if err != nil {
		t.Fatal(err)
	}
	m := ids.Months[0]
	if m.Summary.ActiveUsers != 1 || m.Summary.OneShotRandom != 1 || len(m.Subjects) != 1 || m.Subjects[0].ServiceSID != "IS1" {
		t.Errorf("account scope: %+v", m)
	}
}

func TestTwoAnalyzersOnOneDatabase(t *testing.T) {
	s := openStore(t, hygieneEvents...)
	oct := analysis.MonthRange{From: analysis.Month{Year: 2026, Month: 10}, To: analysis.Month{Year: 2026, Month: 10}}
	for range 2 {
		ids, err := analyzer(t, s, analysis.DefaultSettings()).Identities(context.Background(), oct, analysis.DefaultHygieneOptions())
		if err != nil || ids.Months[0].Summary.RandomIdentities != 5 {
			t.Fatalf("%v, %+v", err, ids)
		}
	}
}
