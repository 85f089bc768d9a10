package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mauledger/mauledger/internal/browser"
	"github.com/mauledger/mauledger/internal/fail"
)

// TestDemoEndsWithACloseThatTheConfigItLeavesRepeats runs the README's
// first command, then what its output suggests: the close again with the
// config the demo left (unchanged), and after a late file (a restatement
// of the final month).
func TestDemoEndsWithACloseThatTheConfigItLeavesRepeats(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo takes about 30 s")
	}
	dir := t.TempDir()
	r := mauledger(t, "", "demo", "--out-dir", dir)
	config := filepath.Join(dir, "mauledger.yaml")
	if r.code != 0 || !strings.Contains(r.stdout, "Month close: 2026-10 v1 written, final: MAU 12416, cost 586.22 USD; "+filepath.Join(dir, "closed", "2026-10", "v1")) ||
		!strings.Contains(r.stdout, "mauledger close --config "+config) {
		t.Fatalf("demo: %+v", r)
	}
	var m struct {
		Schema  string `json:"schema"`
		Figures struct {
			ActiveUsers int  `json:"active_users"`
			Complete    bool `json:"complete"`
		} `json:"figures"`
		Files []struct{ Name string } `json:"files"`
	}
	if err := json.Unmarshal([]byte(mustRead(filepath.Join(dir, "closed", "2026-10", "latest", "manifest.json"))), &m); err != nil ||
		m.Schema != "mauledger.close/v1" || m.Figures.ActiveUsers != 12416 || !m.Figures.Complete || len(m.Files) != 7 {
		t.Errorf("the demo's manifest: %+v, %v", m, err)
	}

	// Before the page, which needs Chromium and is skipped without it.
	checkDemoExports(t, filepath.Join(dir, "demo.duckdb"))
	checkDemoLedgerDir(t, filepath.Join(dir, "demo.duckdb"))
	checkDemoPage(t, filepath.Join(dir, "report.html"))

	if again := mauledger(t, "", "close", "--config", config); again.code != 0 || again.stdout != "2026-10 unchanged: v1\n" {
		t.Errorf("close with the demo's config: %+v", again)
	}
	late := writeFile(t, "late.ndjson", lateMessage)
	if r := mauledger(t, "", "ingest", "events", "--db", filepath.Join(dir, "demo.duckdb"), late); r.code != 0 {
		t.Fatalf("ingest of a late file: %+v", r)
	}
	restated := mauledger(t, "", "close", "--config", config)
	if restated.code != fail.CodeRestatedFinal || !strings.Contains(restated.stdout,
		"2026-10 v2 written, final: MAU 12417, cost 586.27 USD; RESTATES THE FINAL v1 (MAU 12416; 1 subjects added, 0 removed)") {
		t.Errorf("close after a late file: %+v", restated)
	}
	if _, err := os.Stat(filepath.Join(dir, "closed", "2026-10", "v2", "restatement.json")); err != nil {
		t.Error(err)
	}
}

var screenshots = flag.String("screenshots", "", "save the README's screenshot of the demo's report.html (report-html.png) in this folder")

// checkDemoPage opens the demo's HTML report in Chromium: it loads offline
// without errors, draws its three charts, and shows the demo's figures.
func checkDemoPage(t *testing.T, path string) {
	t.Helper()
	exe := browser.Require(t)
	shot := filepath.Join(t.TempDir(), "demo-report.png")
	p, err := browser.Open(context.Background(), exe, path, browser.View{Width: 1280, Height: 900, Screenshot: shot})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the demo's report.html: %s", shot)
	if *screenshots != "" {
		readme := browser.View{Width: 1280, Height: 1000, Screenshot: filepath.Join(*screenshots, "report-html.png"), ViewportOnly: true}
		if _, err := browser.Open(context.Background(), exe, path, readme); err != nil {
			t.Fatal(err)
		}
	}
	if len(p.Errors) > 0 || len(p.Requests) > 0 || p.Overflow > 0 {
		t.Errorf("report.html: errors %q, requests %q, %d px too wide", p.Errors, p.Requests, p.Overflow)
	}
	// Six months: three families, one cost and three services each.
	if p.Charts != 3 || p.Marks < 6*7 {
		t.Errorf("report.html has %d charts, %d bars", p.Charts, p.Marks)
	}
	for _, want := range []string{"mauledger MAU report 2026-05 to 2026-10", "12,416", "10,593 identities, 1,823 addresses", "586.22 USD", "final"} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("report.html does not show %q", want)
		}
	}
}

// checkDemoExports exports the demo's tables as Parquet and reads them back
// as a warehouse would, with DuckDB's read_parquet and Hive partitioning:
// each month's MAU is the report's.
func checkDemoExports(t *testing.T, db string) {
	t.Helper()
	out := t.TempDir()
	for _, args := range [][]string{
		{"export", "ledger", "--db", db, "--out", filepath.Join(out, "ledger")},
		{"export", "subject-months", "--db", db, "--out", filepath.Join(out, "billed"), "--redact"},
		{"export", "monthly", "--db", db, "--from", "2026-05", "--to", "2026-10", "--out", filepath.Join(out, "monthly")},
		{"report", "--db", db, "--month", "2026-10", "--format", "parquet", "--out", filepath.Join(out, "october")},
	} {
		if r := mauledger(t, "", args...); r.code != 0 {
			t.Fatalf("%v: %+v", args, r)
		}
	}
	if r := mauledger(t, "", "export", "monthly", "--db", db, "--out", filepath.Join(out, "monthly")); r.code != fail.CodeInput ||
		!strings.Contains(r.stderr, "folder exists and is not empty") {
		t.Errorf("an export over an earlier one: %+v", r)
	}
	var report struct {
		Months []struct {
			Month       string `json:"month"`
			ActiveUsers int    `json:"active_users"`
		} `json:"months"`
	}
	r := mauledger(t, "", "report", "--db", db, "--from", "2026-05", "--to", "2026-10", "--format", "json")
	if err := json.Unmarshal([]byte(r.stdout), &report); err != nil {
		t.Fatal(err)
	}
	reader, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := reader.QueryRow(query, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	glob := func(name string) string { return filepath.Join(out, name, "**", "*.parquet") }
	// DuckDB's ** does not skip the _ files beside the ledger, as Spark and
	// Trino do: the ledger's own files are two partitions deep.
	ledgerGlob := filepath.Join(out, "ledger", "month=*", "service=*", "*.parquet")
	for _, m := range report.Months {
		billed := count(`SELECT count(*) FROM read_parquet(?, hive_partitioning = true) WHERE month = ?`, glob("billed"), m.Month)
		monthly := count(`SELECT active_users FROM read_parquet(?, hive_partitioning = true) WHERE month = ? AND service_sid = 'ALL'`, glob("monthly"), m.Month)
		if billed != m.ActiveUsers || monthly != m.ActiveUsers {
			t.Errorf("%s: report %d, subject-months %d, monthly %d", m.Month, m.ActiveUsers, billed, monthly)
		}
	}
	if n := count(`SELECT count(*) FROM read_parquet(?, hive_partitioning = true) WHERE subject LIKE '%@example.com'`, glob("billed")); n != 0 {
		t.Errorf("%d redacted subject-months name an identity", n)
	}
	if n := count(`SELECT count(DISTINCT service) FROM read_parquet(?, hive_partitioning = true) WHERE month = '2026-10'`, ledgerGlob); n < 3 {
		t.Errorf("the ledger of 2026-10 is in %d service partitions", n)
	}
	if n := count(`SELECT active_users FROM read_parquet(?, hive_partitioning = true) WHERE service_sid = 'ALL'`, glob("october")); n != report.Months[5].ActiveUsers {
		t.Errorf("report --format parquet: %d active users", n)
	}
}

// checkDemoLedgerDir exports the demo's ledger and reports its months from
// the folder alone: the JSON is the database's, byte for byte apart from
// generated_at, under each setting that reads other rows of the export.
func checkDemoLedgerDir(t *testing.T, db string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ledger")
	if r := mauledger(t, "", "export", "ledger", "--db", db, "--out", dir); r.code != 0 {
		t.Fatalf("export ledger: %+v", r)
	}
	months := []string{"--from", "2026-05", "--to", "2026-10", "--format", "json"}
	for _, settings := range [][]string{
		nil,
		{"--scope", "account"},
		{"--evidence", "inferred", "--unknown-authors", "bill"},
	} {
		args := append(append([]string{"report"}, months...), settings...)
		fromDB := mauledger(t, "", append(args, "--db", db)...)
		fromDir := mauledger(t, "", append(args, "--ledger", dir)...)
		if fromDB.code != 0 || fromDir.code != 0 {
			t.Fatalf("%v: from the database %+v, from the export %+v", settings, fromDB, fromDir)
		}
		if want, got := blankGeneratedAt(t, fromDB.stdout), blankGeneratedAt(t, fromDir.stdout); got != want {
			t.Errorf("%v: the report of the export differs from the database's at byte %d", settings, firstDifference(want, got))
		}
	}

	// A redacted export gives the redacted report's figures, hygiene
	// included (judged before redaction): only the order of pseudonyms, and
	// so which one is an example, can differ.
	redacted := filepath.Join(t.TempDir(), "redacted")
	if r := mauledger(t, "", "export", "ledger", "--db", db, "--out", redacted, "--redact"); r.code != 0 {
		t.Fatalf("export ledger --redact: %+v", r)
	}
	fromDB := mauledger(t, "", append([]string{"report", "--db", db, "--redact"}, months...)...)
	fromDir := mauledger(t, "", append([]string{"report", "--ledger", redacted}, months...)...)
	if fromDB.code != 0 || fromDir.code != 0 {
		t.Fatalf("redacted: from the database %+v, from the export %+v", fromDB, fromDir)
	}
	if strings.Contains(fromDir.stdout, "@example.com") {
		t.Error("the report of a redacted export names an identity")
	}
	if want, got := unorderedReport(t, fromDB.stdout), unorderedReport(t, fromDir.stdout); got != want {
		t.Errorf("the report of a redacted export differs from report --redact at byte %d", firstDifference(want, got))
	}
}

// unorderedReport is a JSON report without its examples and generated_at,
// every list sorted: what two reports that list pseudonyms in different
// orders have in common.
func unorderedReport(t *testing.T, report string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(report), &v); err != nil {
		t.Fatal(err)
	}
	var unorder func(v any) any
	unorder = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			delete(x, "example")
			delete(x, "generated_at")
			for k, e := range x {
				x[k] = unorder(e)
			}
		case []any:
			keys := make([]string, len(x))
			for i := range x {
				x[i] = unorder(x[i])
				b, _ := json.Marshal(x[i])
				keys[i] = string(b)
			}
			slices.Sort(keys)
			return keys
		}
		return v
	}
	b, err := json.MarshalIndent(unorder(v), "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
