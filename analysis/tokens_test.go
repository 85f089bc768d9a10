package analysis_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mauledger/mauledger/analysis"
)

// A token issued is inferred evidence: it bills only when asked to, is
// marked inferred wherever it shows, and a token logged without a service
// goes to the one service its identity is known in.
func TestTokensBillOnlyWithInferredEvidence(t *testing.T) {
	ctx := context.Background()
	s := openStore(t,
		// carol is known in IS1 only (an API user write); dave nowhere.
		ev("EventType", "onUserAdded", "Source", "API", "UserSid", "US1", "Identity", "carol", "DateCreated", "2026-10-01T00:00:00Z"),
	)
	res, err := s.LoadTokens(ctx, "tokens.csv", strings.NewReader("identity,issued_at,service_sid\n"+
		"carol,2026-11-02T09:00:00Z,\n"+ // no service: carol's one service, IS1
		"dave,2026-11-03T09:00:00+01:00,IS2\n"+
		"erin,2026-11-04T09:00:00Z,\n")) // no service, identity unknown: none
	if err != nil || res.Loaded != 3 || len(res.Rejected) != 0 {
		t.Fatalf("load tokens: %+v %v", res, err)
	}
	nov := analysis.MonthRange{From: analysis.Month{Year: 2026, Month: 11}, To: analysis.Month{Year: 2026, Month: 11}}

	strict := analyzer(t, s, analysis.DefaultSettings())
	rep, err := strict.Report(ctx, nov, analysis.ReportOptions{Billed: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Months[0].ActiveUsers != 0 || rep.About.Evidence != analysis.EvidenceStrict {
		t.Errorf("strict: %d users, evidence %s", rep.Months[0].ActiveUsers, rep.About.Evidence)
	}
	e, err := strict.Explain(ctx, "carol", nov.From, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Services) != 1 || e.Services[0].Billed || !strings.Contains(strings.Join(e.Services[0].NotBilled, "\n"),
		"was issued 1 access token(s): likely, not proven, connections, billed only with --evidence inferred") {
		t.Errorf("strict explain: %+v", e.Services)
	}

	set := analysis.DefaultSettings()
	set.Evidence = analysis.EvidenceInferred
	inferred := analyzer(t, s, set)
	rep, err = inferred.Report(ctx, nov, analysis.ReportOptions{Billed: true})
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Months[0]
	if m.ActiveUsers != 3 || m.ByRule["sdk.connect"] != 3 || !strings.Contains(strings.Join(rep.About.Assumptions, " "), "Evidence inferred") {
		t.Errorf("inferred: %+v about %+v", m.Figures, rep.About)
	}
	var got []string
	for _, b := range m.Billed {
		if !b.First.Inferred || b.First.Source != "token_log" {
			t.Errorf("%s billed by %+v, not marked inferred", b.Subject, b.First)
		}
		got = append(got, b.ServiceSID+":"+b.Subject+"@"+b.First.At.Format("2006-01-02T15:04Z")+" "+b.First.Evidence)
	}
	want := []string{":erin@2026-11-04T09:00Z tokens.csv:4", "IS1:carol@2026-11-02T09:00Z tokens.csv:2", "IS2:dave@2026-11-03T08:00Z tokens.csv:3"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("billed %v, want %v", got, want)
	}
	// The month stays incomplete: a token log is not a live event stream.
	if m.Complete {
		t.Errorf("a month with only token logs is marked complete")
	}
}
