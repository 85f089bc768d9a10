package reports

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/mauledger/mauledger/analysis"
)

func utcAt(s string) *time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return &t
}

// coveredReport is the test report with coverage as the analysis states
// it: September complete, October with two live gaps and no snapshot
// after it.
func coveredReport() *analysis.Report {
	r := testReport()
	r.Months[0].Coverage = analysis.Coverage{
		Sources: []analysis.SourceCoverage{
			{Source: "webhook", Events: 120000, First: utcAt("2026-09-01 00:00"), Last: utcAt("2026-09-30 23:59")},
			{Source: "event_stream", Events: 4000, First: utcAt("2026-09-01 00:02"), Last: utcAt("2026-09-30 23:50")},
			{Source: "rest_snapshot", Events: 1300, First: utcAt("2026-09-01 08:00"), Last: utcAt("2026-09-29 17:00")},
			{Source: "token_log"},
		},
		Snapshots: []analysis.Snapshot{{StartedAt: *utcAt("2026-10-01 03:00"), FinishedAt: *utcAt("2026-10-01 03:20")}},
		Gaps:      []analysis.Gap{},
		Reasons:   []string{},
	}
	r.Months[1].Coverage = analysis.Coverage{
		Sources: []analysis.SourceCoverage{
			{Source: "webhook", Events: 900, First: utcAt("2026-10-01 00:10"), Last: utcAt("2026-10-31 22:00")},
			{Source: "event_stream"}, {Source: "rest_snapshot"}, {Source: "token_log"},
		},
		Snapshots: []analysis.Snapshot{{StartedAt: *utcAt("2026-10-15 03:00"), FinishedAt: *utcAt("2026-10-15 03:10")}},
		GapCount:  2,
		Gaps: []analysis.Gap{
			{From: *utcAt("2026-10-03 01:00"), To: *utcAt("2026-10-03 10:12"), Hours: 9.2},
			{From: *utcAt("2026-10-20 04:00"), To: *utcAt("2026-10-20 09:30"), Hours: 5.5},
		},
		Reasons: []string{
			"live capture has 2 gaps longer than 4 h, the longest 9 h 12 m from 2026-10-03 01:00 UTC",
			"no REST snapshot taken after the month ended: run `mauledger ingest twilio`",
		},
	}
	return r
}

func checkWidths(t *testing.T, out string) {
	t.Helper()
	for i, line := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(line); n > 80 {
			t.Errorf("line %d is %d columns wide: %q", i+1, n, line)
		}
		if strings.TrimRight(line, " ") != line {
			t.Errorf("line %d has trailing spaces: %q", i+1, line)
		}
	}
}

func TestTableReportShowsCoverage(t *testing.T) {
	out := string(writeReport(t, coveredReport(), Options{Format: Table}))
	for _, want := range []string{
		"complete: yes",
		"complete: no — lower bound\n  - live capture has 2 gaps longer than 4 h, the longest 9 h 12 m from\n    2026-10-03 01:00 UTC\n" +
			"  - no REST snapshot taken after the month ended: run `mauledger ingest twilio`\n",
		"  coverage         events  first (UTC)       last (UTC)\n",
		"  webhooks        120,000  2026-09-01 00:00  2026-09-30 23:59\n",
		"  token logs            0  -                 -\n",
		"  REST snapshots taken (UTC): 2026-10-01 03:00\n  live gaps longer than 4 h: none\n",
		"  REST snapshots taken (UTC): 2026-10-15 03:00\n",
		"  live gaps longer than 4 h: 2, longest first\n" +
			"    2026-10-03 01:00 – 2026-10-03 10:12  9 h 12 m\n" +
			"    2026-10-20 04:00 – 2026-10-20 09:30  5 h 30 m\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q\n%s", want, out)
		}
	}
	checkWidths(t, out)
}

func TestJSONReportCarriesCoverage(t *testing.T) {
	var back struct {
		Months []struct {
			Complete bool                       `json:"complete"`
			Coverage map[string]json.RawMessage `json:"coverage"`
		} `json:"months"`
	}
	if err := json.Unmarshal(writeReport(t, coveredReport(), Options{Format: JSON}), &back); err != nil {
		t.Fatal(err)
	}
	oct := back.Months[1]
	for _, key := range []string{"sources", "snapshots", "gap_count", "gaps", "reasons"} {
		if _, ok := oct.Coverage[key]; !ok {
			t.Errorf("coverage lacks %q: %v", key, oct.Coverage)
		}
	}
	if got := string(oct.Coverage["gaps"]); !strings.Contains(got, `"from": "2026-10-03T01:00:00Z"`) || !strings.Contains(got, `"hours": 9.2`) {
		t.Errorf("gaps %s", got)
	}
	var sources []map[string]any
	if err := json.Unmarshal(oct.Coverage["sources"], &sources); err != nil {
		t.Fatal(err)
	}
	if len(sources) != 4 || sources[1]["source"] != "event_stream" || sources[1]["events"] != 0.0 ||
		sources[1]["first"] != nil || sources[0]["first"] != "2026-10-01T00:10:00Z" {
		t.Errorf("sources %v", sources)
	}
}

func TestXLSXSummaryShowsCoverage(t *testing.T) {
	f, err := excelize.OpenReader(bytes.NewReader(writeReport(t, coveredReport(), Options{Format: XLSX})))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	get := func(cell string) string {
		v, err := f.GetCellValue("Summary", cell)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if get("I1") != "Coverage" || get("I2") != "complete" || get("G3") != "no" ||
		get("I3") != "live capture has 2 gaps longer than 4 h, the longest 9 h 12 m from 2026-10-03 01:00 UTC; "+
			"no REST snapshot taken after the month ended: run `mauledger ingest twilio`" {
		t.Errorf("Summary coverage %q %q %q", get("I1"), get("I2"), get("I3"))
	}
	about := string(xlsxSheetText(t, f, "About"))
	if !strings.Contains(about, "Complete = no\tlive capture (webhooks and Event Streams) does not cover the whole month without a gap longer than 4 hours") {
		t.Errorf("About sheet does not say what Complete = no means:\n%s", about)
	}
}

func TestReconciliationTableShowsCoverageReasons(t *testing.T) {
	r := &analysis.Reconciliation{
		Schema: analysis.ReconcileSchema, Month: "2026-10", MAU: 10, ServiceScopeMAU: 10, AccountScopeMAU: 10,
		Coverage: coveredReport().Months[1].Coverage,
		Causes:   []string{"incomplete coverage of 2026-10: ..."},
	}
	var buf bytes.Buffer
	if err := WriteReconciliation(&buf, r, Options{Format: Table}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	want := "  complete:                   no — lower bound\n" +
		"                              - live capture has 2 gaps longer than 4 h, the\n" +
		"                                longest 9 h 12 m from 2026-10-03 01:00 UTC\n" +
		"                              - no REST snapshot taken after the month ended:\n" +
		"                                run `mauledger ingest twilio`\n" +
		"Twilio MAU:"
	if !strings.Contains(out, want) {
		t.Errorf("reconciliation table lacks\n%s\n---\n%s", want, out)
	}
	checkWidths(t, out)
}
