package reports

import (
	"time"

	"github.com/mauledger/mauledger/analysis"
)

// Raw subjects of the fixture: no output may contain them when redacted.
const (
	alice    = "alice@example.com"
	bob      = "bob-4242"
	phone    = "whatsapp:+15551234567"
	ghost    = "ghost-author@example.com"
	service1 = "IS00000000000000000000000000000001"
	service2 = "IS00000000000000000000000000000002"
)

// aliceAgain is alice written another way: her duplicate.
const aliceAgain = "Alice@Example.com"

const guest = "guest-0f8fad5b-d9cb-469f-a165-70867728950e"

var rawSubjects = []string{alice, bob, phone, ghost, aliceAgain, guest}

func redactForTest(s string) string { return "[redacted]" }

func intPtr(n int) *int { return &n }

// testReport is a two-month report as the analysis would hand it over:
// September complete with two services, three price bands and data
// quality findings; October a lower bound (no live events) with one
// service and the lists the analysis leaves nil.
func testReport() *analysis.Report {
	cet := time.FixedZone("CEST", 2*3600)
	return &analysis.Report{
		Schema:      analysis.ReportSchema,
		GeneratedAt: time.Date(2026, 11, 2, 10, 30, 0, 0, cet),
		From:        "2026-09",
		To:          "2026-10",
		About: analysis.About{
			Scope:      analysis.ScopeService,
			Evidence:   analysis.EvidenceStrict,
			PriceTable: "twilio-conversations-list-usd",
			Assumptions: []string{
				"A user is counted once per Conversation Service (scope=service).",
				"An access token issued to an identity is not taken as a connection (evidence=strict).",
			},
		},
		Months: []analysis.MonthReport{
			{
				Month: "2026-09",
				Figures: analysis.Figures{
					ActiveUsers: 5240, Identities: 5200, Addresses: 40,
					ByFamily:      map[string]int{"sdk": 5000, "rest": 1200, "channel": 40},
					ByFirstFamily: map[string]int{"sdk": 5000, "rest": 200, "channel": 40},
					ByRule: map[string]int{
						"sdk.connect": 5000, "sdk.message": 4100, "sdk.join_leave": 300,
						"rest.user_write": 1200, "rest.message_author": 17, "rest.participant_write": 9,
						"channel.inbound_message": 38, "channel.address_added": 40,
					},
				},
				Services: []analysis.ServiceFigures{
					{ServiceSID: service1, Figures: analysis.Figures{
						ActiveUsers: 5000, Identities: 5000,
						ByFamily: map[string]int{"sdk": 5000, "rest": 1100, "channel": 0},
						ByRule: map[string]int{
							"sdk.connect": 5000, "sdk.message": 4000, "sdk.join_leave": 300,
							"rest.user_write": 1100, "rest.message_author": 17, "rest.participant_write": 9,
							"channel.inbound_message": 0, "channel.address_added": 0,
						},
					}},
					{ServiceSID: service2, Figures: analysis.Figures{
						ActiveUsers: 240, Identities: 200, Addresses: 40,
						ByFamily: map[string]int{"sdk": 0, "rest": 100, "channel": 40},
						ByRule: map[string]int{
							"sdk.connect": 0, "sdk.message": 100, "sdk.join_leave": 0,
							"rest.user_write": 100, "rest.message_author": 0, "rest.participant_write": 0,
							"channel.inbound_message": 38, "channel.address_added": 40,
						},
					}},
				},
				Cost: analysis.Cost{
					Currency: "USD",
					Total:    251.4,
					Bands: []analysis.BandCost{
						{From: 1, To: intPtr(200), Units: 200, Rate: 0, Amount: 0},
						{From: 201, To: intPtr(5000), Units: 4800, Rate: 0.05, Amount: 240},
						{From: 5001, To: intPtr(10000), Units: 240, Rate: 0.0475, Amount: 11.4},
					},
				},
				Complete: true,
				DataQuality: analysis.DataQuality{
					SystemMessages: 3, UnknownAuthorMessages: 2,
					UnknownAuthors: []string{ghost},
				},
				Hygiene: testHygiene(),
				Billed: []analysis.BilledSubject{
					{ServiceSID: service1, Kind: "identity", Subject: alice, Activities: 12,
						First: analysis.Activity{
							At: time.Date(2026, 9, 3, 12, 0, 0, 0, cet), ServiceSID: service1,
							Kind: "identity", Subject: alice, Rule: "sdk.connect", Family: "sdk",
							Source: "webhook", Origin: "SDK", Evidence: "IM00000000000000000000000000000001",
						}},
					{ServiceSID: service1, Kind: "identity", Subject: bob, Activities: 1,
						First: analysis.Activity{
							At: time.Date(2026, 9, 30, 23, 59, 59, 0, time.UTC), ServiceSID: service1,
							Kind: "identity", Subject: bob, Rule: "rest.user_write", Family: "rest",
							Source: "rest_snapshot", Origin: "API", Evidence: "US00000000000000000000000000000002",
						}},
					{ServiceSID: service2, Kind: "address", Subject: phone, Activities: 4,
						First: analysis.Activity{
							At: time.Date(2026, 9, 14, 8, 15, 0, 0, time.UTC), ServiceSID: service2,
							Kind: "address", Subject: phone, Rule: "channel.inbound_message", Family: "channel",
							Source: "event_stream", Origin: "WHATSAPP", Evidence: "IM00000000000000000000000000000003",
						}},
				},
			},
			{
				Month: "2026-10",
				Figures: analysis.Figures{
					ActiveUsers: 150, Identities: 150,
					ByFamily:      map[string]int{"sdk": 0, "rest": 150, "channel": 0},
					ByFirstFamily: map[string]int{"sdk": 0, "rest": 150, "channel": 0},
					ByRule: map[string]int{
						"sdk.connect": 0, "sdk.message": 0, "sdk.join_leave": 0,
						"rest.user_write": 150, "rest.message_author": 0, "rest.participant_write": 0,
						"channel.inbound_message": 0, "channel.address_added": 0,
					},
				},
				Services: []analysis.ServiceFigures{
					{ServiceSID: service1, Figures: analysis.Figures{
						ActiveUsers: 150, Identities: 150,
						ByFamily: map[string]int{"sdk": 0, "rest": 150, "channel": 0},
						ByRule: map[string]int{
							"sdk.connect": 0, "sdk.message": 0, "sdk.join_leave": 0,
							"rest.user_write": 150, "rest.message_author": 0, "rest.participant_write": 0,
							"channel.inbound_message": 0, "channel.address_added": 0,
						},
					}},
				},
				Cost:     analysis.Cost{Currency: "USD", Total: 0},
				Complete: false,
				Billed: []analysis.BilledSubject{
					{ServiceSID: service1, Kind: "identity", Subject: alice, Activities: 2,
						First: analysis.Activity{
							At: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), ServiceSID: service1,
							Kind: "identity", Subject: alice, Rule: "rest.user_write", Family: "rest",
							Source: "rest_snapshot", Origin: "API", Evidence: "US00000000000000000000000000000001",
						}},
				},
			},
		},
	}
}

// testHygiene is September's identity hygiene: guests churning, alice
// billed twice, back-office REST writes.
func testHygiene() analysis.Hygiene {
	return analysis.Hygiene{
		ActiveUsers: 5240, Identities: 5200, RandomIdentities: 3000, OneShot: 2100, OneShotRandom: 2000,
		Shapes: []analysis.ShapeFigures{
			{Shape: analysis.Shape{Pattern: "guest-{uuid}", Random: true, Reason: "UUID"},
				Subjects: 3000, Share: 0.5725, Example: guest, New: 2900, ChurnRate: 0.5534},
			{Shape: analysis.Shape{Pattern: "{email}", Reason: "email address"},
				Subjects: 2000, Share: 0.3817, Example: alice, New: 100, ChurnRate: 0.0191},
			{Shape: analysis.Shape{Pattern: "bob-{int}", Reason: "numeric id"},
				Subjects: 200, Share: 0.0382, Example: bob, New: 100, ChurnRate: 0.0191},
		},
		Churn: analysis.Churn{New: 3100, Returning: 2000, Reactivated: 140, Churned: 2500, NewRandom: 2900, RandomChurnRate: 0.5534},
		Duplicates: analysis.Duplicates{GroupCount: 1, ExtraUsers: 1, Cost: 0.05, Groups: []analysis.DuplicateGroup{
			{Key: alice, ServiceSID: service1, ExtraUsers: 1, Members: []analysis.DuplicateMember{
				{Kind: "identity", Subject: aliceAgain}, {Kind: "identity", Subject: alice},
			}},
		}},
		Avoidable: analysis.Avoidable{
			Currency: "USD", MarginalRate: 0.0475,
			ConnectOnly:     analysis.AvoidableFigure{Subjects: 100, Cost: 4.75},
			RESTWriteOnly:   analysis.AvoidableFigure{Subjects: 1500, Cost: 74.4},
			SilentAddresses: analysis.AvoidableFigure{Subjects: 40, Cost: 1.9},
			Cost:            81.4,
		},
		Lint: []analysis.LintFigures{
			lintFigures(analysis.Lint(alice)[0], 2000, alice),
			lintFigures(bobShared, 1, bob),
		},
		WhatIf: analysis.WhatIf{OneShotRandom: 2000, ActiveUsers: 5240, Cost: 251.4,
			ActiveUsersWithout: 3240, CostWithout: 152, Saving: 99.4},
	}
}

// bobShared is bob's lint: an identity many people share.
var bobShared = analysis.SharedFinding(analysis.SharedSignals{Conversations: 640, Percentile999: 41})

// lintFigures counts the identities with finding f, one of them example.
func lintFigures(f analysis.LintFinding, identities int, example string) analysis.LintFigures {
	return analysis.LintFigures{Code: f.Code, Severity: f.Severity, Identities: identities, Example: example, Fix: f.Fix}
}

// testIdentities is September's identities result: the hygiene above and
// three of its identities.
func testIdentities() *analysis.Identities {
	r := testReport()
	key := alice
	return &analysis.Identities{
		Schema: analysis.IdentitiesSchema, GeneratedAt: r.GeneratedAt, From: "2026-09", To: "2026-09",
		OneShotWindow: "24h0m0s", About: r.About,
		Months: []analysis.IdentityMonth{{
			Month:   "2026-09",
			Summary: testHygiene(),
			Subjects: []analysis.IdentitySubject{
				{ServiceSID: service1, Identity: aliceAgain, Shape: analysis.Shape{Pattern: "{email}", Reason: "email address"},
					OneShot: true, DuplicateGroup: &key, Status: "new", Avoidable: "connect_only", Lint: analysis.Lint(aliceAgain)},
				{ServiceSID: service1, Identity: bob, Shape: analysis.Shape{Pattern: "bob-{int}", Reason: "numeric id"},
					Status: "returning", Avoidable: "rest_write_only", Lint: []analysis.LintFinding{bobShared}},
				{ServiceSID: service2, Identity: guest, Shape: analysis.Shape{Pattern: "guest-{uuid}", Random: true, Reason: "UUID"},
					OneShot: true, Status: "new", Lint: []analysis.LintFinding{}},
			},
		}},
	}
}

// testExplanation explains alice in September: billed in one service,
// seen but not billed in the other.
func testExplanation() *analysis.Explanation {
	r := testReport()
	first := r.Months[0].Billed[0].First
	second := first
	second.At = first.At.Add(time.Hour)
	second.Rule = "sdk.message"
	second.Evidence = "IM00000000000000000000000000000009"
	return &analysis.Explanation{
		Subject: alice,
		Month:   "2026-09",
		Services: []analysis.SubjectInService{
			{ServiceSID: service1, Kind: "identity", Billed: true,
				Activities: []analysis.Activity{first, second}},
			{ServiceSID: service2, Kind: "identity", Billed: false,
				NotBilled: []string{"only received 3 outbound messages"}},
		},
		About: r.About,
	}
}
