package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/mauledger/mauledger/analysis"
)

func writeIdentities(t *testing.T, ids *analysis.Identities, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteIdentities(&buf, ids, opts); err != nil {
		t.Fatalf("WriteIdentities(%s): %v", opts.Format, err)
	}
	return buf.Bytes()
}

func TestIdentitiesJSON(t *testing.T) {
	var got struct {
		Schema string `json:"schema"`
		Months []struct {
			Month   string `json:"month"`
			Summary struct {
				OneShotRandom int `json:"one_shot_random"`
				Shapes        []struct {
					Shape   string `json:"shape"`
					Random  bool   `json:"random"`
					Example string `json:"example"`
				} `json:"shapes"`
				Duplicates struct {
					Groups []struct {
						Key     string `json:"key"`
						Members []struct {
							Kind    string `json:"subject_kind"`
							Subject string `json:"subject"`
						} `json:"members"`
					} `json:"groups"`
				} `json:"duplicates"`
				WhatIf struct {
					Saving float64 `json:"saving"`
				} `json:"what_if"`
				Lint []struct {
					Code       string `json:"code"`
					Severity   string `json:"severity"`
					Identities int    `json:"identities"`
					Example    string `json:"example"`
					Fix        string `json:"fix"`
				} `json:"lint"`
			} `json:"summary"`
			Subjects []map[string]any `json:"subjects"`
		} `json:"months"`
	}
	if err := json.Unmarshal(writeIdentities(t, testIdentities(), Options{Format: JSON}), &got); err != nil {
		t.Fatal(err)
	}
	if got.Schema != "mauledger.identities/v1" || len(got.Months) != 1 {
		t.Fatalf("%+v", got)
	}
	m := got.Months[0]
	if m.Summary.OneShotRandom != 2000 || m.Summary.Shapes[0].Shape != "guest-{uuid}" || !m.Summary.Shapes[0].Random ||
		m.Summary.Duplicates.Groups[0].Key != alice || m.Summary.Duplicates.Groups[0].Members[0].Subject != aliceAgain ||
		m.Summary.WhatIf.Saving != 99.4 {
		t.Errorf("summary %+v", m.Summary)
	}
	if l := m.Summary.Lint; len(l) != 2 || l[0].Code != "reserved-characters" || l[0].Severity != "note" || l[0].Identities != 2000 ||
		l[0].Example != alice || l[1].Code != "shared" || l[1].Example != bob || l[1].Fix == "" {
		t.Errorf("lint %+v", l)
	}
	// Every subject has the fields the schema promises; duplicate_group is null or a key.
	for _, s := range m.Subjects {
		for _, k := range []string{"service_sid", "identity", "shape", "random", "reason", "one_shot", "duplicate_group", "status", "avoidable", "lint"} {
			if _, ok := s[k]; !ok {
				t.Errorf("subject %v lacks %q", s["identity"], k)
			}
		}
	}
	if m.Subjects[0]["duplicate_group"] != alice || m.Subjects[1]["duplicate_group"] != nil {
		t.Errorf("duplicate groups %v, %v", m.Subjects[0]["duplicate_group"], m.Subjects[1]["duplicate_group"])
	}
	// lint is a list, empty when there is nothing, of code, severity, reason, fix.
	shared := m.Subjects[1]["lint"].([]any)[0].(map[string]any)
	if len(m.Subjects[2]["lint"].([]any)) != 0 || shared["code"] != "shared" || shared["severity"] != "warning" ||
		shared["reason"] != bobShared.Reason || shared["fix"] != bobShared.Fix {
		t.Errorf("lint of bob %v, of guest %v", m.Subjects[1]["lint"], m.Subjects[2]["lint"])
	}
}

func TestIdentitiesJSONOfAnEmptyMonthHasEmptyLists(t *testing.T) {
	ids := &analysis.Identities{Months: []analysis.IdentityMonth{{Month: "2026-10"}}}
	out := string(writeIdentities(t, ids, Options{Format: JSON}))
	for _, want := range []string{`"subjects": []`, `"shapes": []`, `"groups": []`, `"lint": []`, `"schema": "mauledger.identities/v1"`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in\n%s", want, out)
		}
	}
}

// TestIdentitiesJSONOfManySubjectsKeepsTheirOrder writes more subjects
// than one batch per processor encodes (writeSubjectLines), in two months:
// each must come back once, in order, one line each.
func TestIdentitiesJSONOfManySubjectsKeepsTheirOrder(t *testing.T) {
	ids := testIdentities()
	ids.Months = append(ids.Months, analysis.IdentityMonth{Month: "2026-10"})
	for i := range ids.Months {
		m := &ids.Months[i]
		m.Subjects = nil
		for j := range 3*8192*runtime.GOMAXPROCS(0) + 7 {
			m.Subjects = append(m.Subjects, analysis.IdentitySubject{ServiceSID: service1,
				Identity: fmt.Sprintf("user-%d-%06d", i, j), Status: "new", Lint: []analysis.LintFinding{}})
		}
	}
	out := writeIdentities(t, ids, Options{Format: JSON})
	var got analysis.Identities
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	for i, m := range got.Months {
		if !reflect.DeepEqual(m.Subjects, ids.Months[i].Subjects) {
			t.Errorf("%s: %d subjects, not the %d written in order", m.Month, len(m.Subjects), len(ids.Months[i].Subjects))
		}
	}
	if lines := bytes.Count(out, []byte(`{"service_sid":`)); lines != 2*len(ids.Months[0].Subjects) ||
		bytes.Count(out, []byte("\n        {\"service_sid\":")) != lines {
		t.Errorf("%d subject lines, want one per subject", lines)
	}
}

func TestIdentitiesCSVIsOneRowPerIdentity(t *testing.T) {
	rows, err := csv.NewReader(bytes.NewReader(writeIdentities(t, testIdentities(), Options{Format: CSV}))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"month", "service_sid", "identity", "shape", "random", "reason", "one_shot", "duplicate_group", "status", "avoidable", "lint"},
		{"2026-09", service1, aliceAgain, "{email}", "false", "email address", "true", alice, "new", "connect_only", "reserved-characters (note)"},
		{"2026-09", service1, bob, "bob-{int}", "false", "numeric id", "false", "", "returning", "rest_write_only", "shared"},
		{"2026-09", service2, guest, "guest-{uuid}", "true", "UUID", "true", "", "new", "", ""},
	}
	if !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("csv\n got %q\nwant %q", rows, want)
	}
	redacted := string(writeIdentities(t, testIdentities(), Options{Format: CSV, Redact: redactForTest}))
	if !strings.Contains(redacted, "[redacted]-{int}") {
		t.Errorf("the literal part of a shape is not redacted:\n%s", redacted)
	}
}

func TestIdentitiesTable(t *testing.T) {
	out := string(writeIdentities(t, testIdentities(), Options{Format: Table}))
	for _, want := range []string{
		"mauledger identity hygiene, 2026-09",
		"all services, one-shot window 24h0m0s",
		"billed: 5,240 (5,200 identities, 3,000 of a random shape)",
		"churn: 3,100 new (2,900 random), 2,000 returning, 140 reactivated; 2,500 churned",
		"random-identity churn rate: 55.3% of billed users are new random identities",
		"one-shot identities: 2,100 (2,000 random)",
		"  guest-{uuid}       3,000  57.3%  2,900  random (UUID)",
		"    guest-{uuid}: " + guest,
		"duplicates: 1 group, 1 extra billed user, 0.05 USD",
		"  - alice@example.com in " + service1 + ": Alice@Example.com,\n    alice@example.com",
		"avoidable activity, and what the bill would drop by without it (USD):",
		"  REST-write-only identities       1,500  74.40",
		"  total                                   81.40",
		"saving 99.40",
		"identity lint (billed identities with each finding):",
		"  finding              severity  identities  example",
		`  reserved-characters  note           2,000  "` + alice + `"`,
		`  shared               warning            1  "` + bob + `"`,
		"  - shared (warning): Give each person an identity of their own:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if len([]rune(line)) > lineWidth {
			t.Errorf("line longer than %d: %q", lineWidth, line)
		}
	}
}

// identities --lint-only: the months' lint, then the identities with a
// warning and their findings; those with notes only are counted.
func TestIdentitiesLintOnlyTable(t *testing.T) {
	ids := testIdentities()
	ids.LintOnly = true
	ids.Months[0].Subjects = ids.Months[0].Subjects[:2] // the two with findings
	out := string(writeIdentities(t, ids, Options{Format: Table}))
	for _, want := range []string{
		"identity lint (billed identities with each finding):",
		"identities with lint warnings: 1",
		"  in " + service1 + ":\n  - \"" + bob + "\"\n",
		"      shared (warning): took part in 640 conversations this month,",
		"and 1 identity with notes only",
		"Every identity with lint findings, notes too: --lint-only --format csv or json.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lint-only table lacks %q:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"one-shot identities", "duplicates:", aliceAgain} {
		if strings.Contains(out, unwanted) {
			t.Errorf("lint-only table has %q:\n%s", unwanted, out)
		}
	}
}

// The table shows an identity quoted, its invisible characters escaped,
// and a long one cut short.
func TestShownIdentity(t *testing.T) {
	for id, want := range map[string]string{
		" bob\t":                 `" bob\t"`,
		"p\u0430ypal":            "\"p\u0430ypal\"", // graphic: the reason names the letter
		"an\u200bna":             `"an\u200bna"`,
		"josé":                   `"josé"`,
		strings.Repeat("x", 300): `"` + strings.Repeat("x", 48) + `"... (300 characters)`,
	} {
		if got := shownIdentity(id); got != want {
			t.Errorf("shownIdentity(%q) = %s, want %s", id, got, want)
		}
	}
}

func TestIdentitiesHaveNoXLSX(t *testing.T) {
	if err := WriteIdentities(&bytes.Buffer{}, testIdentities(), Options{Format: XLSX}); !errors.Is(err, ErrBadFormat) {
		t.Errorf("xlsx: %v", err)
	}
}

func TestReportCarriesHygieneInEveryFormat(t *testing.T) {
	table := string(writeReport(t, testReport(), Options{Format: Table}))
	if !strings.Contains(table, "identity hygiene") || !strings.Contains(table, "one-shot identities: 2,100 (2,000 random)") {
		t.Errorf("report table has no hygiene section:\n%s", table)
	}
	var rep struct {
		Months []struct {
			Hygiene *struct {
				Churn struct {
					RandomChurnRate float64 `json:"random_churn_rate"`
				} `json:"churn"`
				Shapes []any `json:"shapes"`
			} `json:"hygiene"`
		} `json:"months"`
	}
	if err := json.Unmarshal(writeReport(t, testReport(), Options{Format: JSON}), &rep); err != nil {
		t.Fatal(err)
	}
	if h := rep.Months[0].Hygiene; h == nil || h.Churn.RandomChurnRate != 0.5534 {
		t.Errorf("september hygiene %+v", h)
	}
	if h := rep.Months[1].Hygiene; h == nil || h.Shapes == nil {
		t.Errorf("october hygiene without shapes list: %+v", h)
	}

	f, err := excelize.OpenReader(bytes.NewReader(writeReport(t, testReport(), Options{Format: XLSX})))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for sheet, want := range map[string][]string{
		"Hygiene":         {"2026-09", "5,240", "5,200", "3,000", "2,100", "2,000", "3,100", "2,000", "140", "2,500", "2,900", "55.3%"},
		"Identity shapes": {"2026-09", "guest-{uuid}", "3,000", "57.3%", "2,900", "55.3%", "random", "UUID", guest},
		"Duplicates":      {"2026-09", alice, service1, "1", "identity:" + aliceAgain + ", identity:" + alice},
		"Identity lint":   {"2026-09", "reserved-characters", "note", "2,000", alice, analysis.Lint(alice)[0].Fix},
	} {
		rows, err := f.GetRows(sheet)
		if err != nil || len(rows) < 2 {
			t.Fatalf("%s: %v, %d rows", sheet, err, len(rows))
		}
		if got := rows[1][:len(want)]; !slices.Equal(got, want) {
			t.Errorf("%s row 2 = %q, want %q", sheet, got, want)
		}
	}
}
