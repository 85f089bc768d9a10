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

var rawSubjects = []string{alice, bob, phone, ghost}

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
					ByFamily: map[string]int{"sdk": 5000, "rest": 1200, "channel": 40},
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
					ByFamily: map[string]int{"sdk": 0, "rest": 150, "channel": 0},
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
