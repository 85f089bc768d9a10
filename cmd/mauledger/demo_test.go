package main

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
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
	if r.code != 0 || !strings.Contains(r.stdout, "Month close: 2026-10 v1 written, final: MAU 12401, cost 585.55 USD; "+filepath.Join(dir, "closed", "2026-10", "v1")) ||
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
		m.Schema != "mauledger.close/v1" || m.Figures.ActiveUsers != 12401 || !m.Figures.Complete || len(m.Files) != 7 {
		t.Errorf("the demo's manifest: %+v, %v", m, err)
	}

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
		"2026-10 v2 written, final: MAU 12402, cost 585.59 USD; RESTATES THE FINAL v1 (MAU 12401; 1 subjects added, 0 removed)") {
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
	for _, want := range []string{"mauledger MAU report 2026-05 to 2026-10", "12,401", "10,578 identities, 1,823 addresses", "585.55 USD", "final"} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("report.html does not show %q", want)
		}
	}
}
