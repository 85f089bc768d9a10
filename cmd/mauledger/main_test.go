package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/xuri/excelize/v2"

	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/fail"
)

// TestMain lets a test run this very binary as the mauledger command, for
// the checks that need a second process (a locked database, serve).
func TestMain(m *testing.M) {
	if os.Getenv("MAULEDGER_TEST_CLI") == "1" {
		os.Exit(runWithSignals(os.Args[1:]))
	}
	os.Exit(m.Run())
}

type result struct {
	code           int
	stdout, stderr string
}

func mauledger(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	io := &streams{In: strings.NewReader(stdin), Out: &out, Err: &errOut}
	code := run(context.Background(), args, io)
	return result{code, out.String(), errOut.String()}
}

// events is a small hand-made capture: an SDK message on the last second of
// October, an inbound SMS on the first second of November, a "system" message.
var events = mustRead("../../testdata/october-november.ndjson")

func mustRead(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func loadedDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "m.duckdb")
	if r := mauledger(t, "", "ingest", "events", "--db", db, writeFile(t, "e.ndjson", events)); r.code != 0 {
		t.Fatalf("ingest: %+v", r)
	}
	return db
}

func TestUsageErrorsExitTwoWithOneLine(t *testing.T) {
	db := loadedDB(t)
	for _, args := range [][]string{
		{"frobnicate"},
		{"report", "--db", db, "--month", "2026-13"},
		{"report", "--db", db, "--from", "2026-11", "--to", "2026-10"},
		{"report", "--db", db},
		{"report", "--db", db, "--month", "2026-10", "--bogus"},
		{"report", "--db", db, "--month", "2026-10", "--format", "pdf"},
		{"report", "--db", db, "--month", "2026-10", "--scope", "galaxy"},
		{"report", "--db", db, "--month", "2026-10", "--evidence", "hearsay"},
		{"ingest", "events", "--spool", ""},
		{"explain", "--db", db, "alice"},
		{"identities", "--db", db},
		{"identities", "--db", db, "--month", "2026-13"},
		{"identities", "--db", db, "--month", "2026-10", "--window", "0s"},
		{"identities", "--db", db, "--month", "2026-10", "--window", "soon"},
		{"identities", "--db", db, "--month", "2026-10", "--format", "xlsx", "--out", "x.xlsx"},
		{"ingest", "events"},
	} {
		r := mauledger(t, "", args...)
		if r.code != fail.CodeUsage || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "mauledger: ") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line", args, r.code, r.stderr)
		}
	}
}

func TestIngestEventsReportsRejectedLinesAndKeepsTheRest(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.duckdb")
	bad := writeFile(t, "bad.ndjson", events+"{not json\n")
	r := mauledger(t, "", "ingest", "events", "--db", db, bad)
	if r.code != fail.CodeInput || !strings.Contains(r.stderr, bad+":4: not valid JSON\n") {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "4 events: 3 loaded, 0 duplicates, 0 ignored (not Conversations), 1 rejected") {
		t.Errorf("stdout %q", r.stdout)
	}
	// From stdin, and twice: nothing changes.
	r = mauledger(t, events, "ingest", "events", "--db", db, "-")
	if r.code != 0 || !strings.Contains(r.stdout, "stdin: 3 events: 0 loaded, 3 duplicates") {
		t.Errorf("second load: %+v", r)
	}
}

func TestMissingInputsAndDatabases(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "m.duckdb")
	r := mauledger(t, "", "ingest", "events", "--db", db, filepath.Join(dir, "nope.ndjson"))
	if r.code != fail.CodeInput || !strings.Contains(r.stderr, "nope.ndjson: no such file or directory") {
		t.Errorf("missing file: %+v", r)
	}
	r = mauledger(t, "", "ingest", "events", "--db", db, "--spool", filepath.Join(dir, "nospool"))
	if r.code != fail.CodeInput || !strings.Contains(r.stderr, "nospool: not a directory") {
		t.Errorf("missing spool: %+v", r)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a failed ingest created the database")
	}
	r = mauledger(t, "", "report", "--db", db, "--month", "2026-10")
	if r.code != fail.CodeStore || !strings.Contains(r.stderr, "no database at") {
		t.Errorf("missing database: %+v", r)
	}
	garbage := writeFile(t, "garbage.duckdb", strings.Repeat("not a database ", 1000))
	r = mauledger(t, "", "report", "--db", garbage, "--month", "2026-10")
	if r.code != fail.CodeStore {
		t.Errorf("garbage database: %+v", r)
	}
}

func TestLockedDatabase(t *testing.T) {
	db := loadedDB(t)
	holder, err := ingest.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	cmd := exec.Command(os.Args[0], "report", "--db", db, "--month", "2026-10")
	cmd.Env = append(os.Environ(), "MAULEDGER_TEST_CLI=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	exit, ok := err.(*exec.ExitError)
	if !ok || exit.ExitCode() != fail.CodeStore || !strings.Contains(stderr.String(), "locked by another process") {
		t.Fatalf("report on a locked database: %v, stderr %q", err, stderr.String())
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	db := loadedDB(t)
	s, err := ingest.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB.Exec(`INSERT INTO schema_migrations VALUES (999, '0999_future.sql', now()::TIMESTAMP)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	r := mauledger(t, "", "report", "--db", db, "--month", "2026-10")
	if r.code != fail.CodeStore || !strings.Contains(r.stderr, "newer mauledger (schema v999") {
		t.Errorf("%+v", r)
	}
}

func TestReportFormats(t *testing.T) {
	db := loadedDB(t)
	r := mauledger(t, "", "report", "--db", db, "--from", "2026-09", "--to", "2026-11", "--format", "json")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	var rep struct {
		Schema string `json:"schema"`
		Months []struct {
			Month       string `json:"month"`
			ActiveUsers int    `json:"active_users"`
			Complete    bool   `json:"complete"`
			DataQuality struct {
				SystemMessages int `json:"system_messages"`
			} `json:"data_quality"`
		} `json:"months"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Schema != "mauledger.report/v1" || len(rep.Months) != 3 {
		t.Fatalf("%+v", rep)
	}
	sep, oct, nov := rep.Months[0], rep.Months[1], rep.Months[2]
	if sep.ActiveUsers != 0 || sep.Complete || oct.ActiveUsers != 1 || nov.ActiveUsers != 1 || nov.DataQuality.SystemMessages != 1 {
		t.Errorf("months %+v", rep.Months)
	}

	xlsx := filepath.Join(t.TempDir(), "oct.xlsx")
	if r := mauledger(t, "", "report", "--db", db, "--month", "2026-10", "--out", xlsx); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	f, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if v, _ := f.GetCellValue("Active users", "D2"); v != "alice@example.com" {
		t.Errorf("Active users D2 = %q", v)
	}

	r = mauledger(t, "", "report", "--db", db, "--month", "2026-10", "--format", "csv", "--redact")
	if r.code != 0 || strings.Contains(r.stdout, "alice") {
		t.Errorf("redacted csv: %+v", r)
	}
	r = mauledger(t, "", "report", "--db", db, "--month", "2026-10", "--out", xlsx, "--redact")
	f2, _ := excelize.OpenFile(xlsx)
	if v, _ := f2.GetCellValue("Active users", "D2"); r.code != 0 || !strings.HasPrefix(v, "redacted-") {
		t.Errorf("redacted xlsx: D2 = %q (%+v)", v, r)
	}
}

func TestExplain(t *testing.T) {
	db := loadedDB(t)
	r := mauledger(t, "", "explain", "--db", db, "alice@example.com", "--month", "2026-10")
	if r.code != 0 || !strings.Contains(r.stdout, "sdk.message") || !strings.Contains(r.stdout, "IM1") {
		t.Errorf("billed: %+v", r)
	}
	r = mauledger(t, "", "explain", "--db", db, "alice@example.com", "--month", "2026-11", "--format", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"billed": false`) || !strings.Contains(r.stdout, "last billed in 2026-10") {
		t.Errorf("not billed: %+v", r)
	}
}

func TestIdentities(t *testing.T) {
	db := loadedDB(t)
	r := mauledger(t, "", "identities", "--db", db, "--month", "2026-10", "--format", "json")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	var ids struct {
		Schema        string `json:"schema"`
		OneShotWindow string `json:"one_shot_window"`
		Months        []struct {
			Summary struct {
				ActiveUsers int `json:"active_users"`
			} `json:"summary"`
			Subjects []map[string]any `json:"subjects"`
		} `json:"months"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &ids); err != nil {
		t.Fatal(err)
	}
	if ids.Schema != "mauledger.identities/v1" || ids.OneShotWindow != "24h0m0s" || len(ids.Months) != 1 || ids.Months[0].Summary.ActiveUsers != 1 {
		t.Fatalf("%+v", ids)
	}
	// alice sent a message: an email, stable, never one-shot; its @ is a
	// lint note.
	want := map[string]any{"service_sid": "IS1", "identity": "alice@example.com", "shape": "{email}", "random": false,
		"reason": "email address", "one_shot": false, "duplicate_group": nil, "status": "new", "avoidable": ""}
	got := ids.Months[0].Subjects
	if len(got) != 1 {
		t.Fatalf("subjects %v, want [%v]", got, want)
	}
	lint, _ := got[0]["lint"].([]any)
	delete(got[0], "lint")
	if !maps.Equal(got[0], want) || len(lint) != 1 || lint[0].(map[string]any)["code"] != "reserved-characters" ||
		lint[0].(map[string]any)["severity"] != "note" {
		t.Errorf("subjects %v, lint %v, want [%v] and a reserved-characters note", got, lint, want)
	}
	r = mauledger(t, "", "identities", "--db", db, "--month", "2026-10", "--lint-only")
	if r.code != 0 || !strings.Contains(r.stdout, "identities with lint warnings: 0") || !strings.Contains(r.stdout, "and 1 identity with notes only") {
		t.Errorf("lint only: %+v", r)
	}

	r = mauledger(t, "", "identities", "--db", db, "--month", "2026-10", "--format", "csv", "--redact", "--window", "1h")
	if r.code != 0 || strings.Contains(r.stdout, "alice") || !strings.Contains(r.stdout, ",redacted-") {
		t.Errorf("redacted csv: %+v", r)
	}
	r = mauledger(t, "", "identities", "--db", db, "--month", "2026-10", "--service", "ISnone")
	if r.code != 0 || !strings.Contains(r.stdout, "service ISnone, one-shot window 24h0m0s") || !strings.Contains(r.stdout, "billed: 0 (0 identities") {
		t.Errorf("other service: %+v", r)
	}
}

func TestVersion(t *testing.T) {
	r := mauledger(t, "", "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "mauledger ") || !strings.Contains(r.stdout, fmt.Sprintf("schema v%d)", ingest.SchemaVersion())) {
		t.Errorf("%+v", r)
	}
}

func TestEveryCommandHasHelpWithAnExample(t *testing.T) {
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		if cmd.Example == "" {
			t.Errorf("%q has no example in its --help", cmd.CommandPath())
		}
		for _, sub := range cmd.Commands() {
			if sub.Name() != "help" && sub.Name() != "completion" {
				walk(sub)
			}
		}
	}
	walk(newRootCmd(&streams{}))
	r := mauledger(t, "", "report", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "mauledger report --month 2026-10") {
		t.Errorf("report --help: %+v", r)
	}
}

func TestTokensCountWithInferredEvidenceOnly(t *testing.T) {
	db := loadedDB(t)
	tokens := writeFile(t, "tokens.csv", "identity,issued_at,service_sid\n"+
		"bob@example.com,2026-10-05T12:00:00Z,IS1\n"+
		"bob@example.com,not-a-time,IS1\n")
	r := mauledger(t, "", "ingest", "tokens", "--db", db, tokens)
	if r.code != fail.CodeInput || !strings.Contains(r.stdout, "2 tokens: 1 loaded, 0 duplicates, 1 rejected") ||
		!strings.Contains(r.stderr, tokens+`:3: issued_at "not-a-time" is not an RFC 3339 time`) {
		t.Fatalf("ingest tokens: %+v", r)
	}
	users := func(evidence string) (int, string) {
		r := mauledger(t, "", "report", "--db", db, "--month", "2026-10", "--format", "json", "--evidence", evidence)
		var rep struct {
			About  struct{ Evidence string } `json:"about"`
			Months []struct {
				ActiveUsers int `json:"active_users"`
			} `json:"months"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 {
			t.Fatalf("report --evidence %s: %+v %v", evidence, r, err)
		}
		return rep.Months[0].ActiveUsers, rep.About.Evidence
	}
	if n, ev := users("strict"); n != 1 || ev != "strict" {
		t.Errorf("strict: %d users, about.evidence %q", n, ev)
	}
	if n, ev := users("inferred"); n != 2 || ev != "inferred" {
		t.Errorf("inferred: %d users, about.evidence %q", n, ev)
	}
	r = mauledger(t, "", "explain", "--db", db, "bob@example.com", "--month", "2026-10", "--evidence", "inferred")
	if r.code != 0 || !strings.Contains(r.stdout, "sdk.connect (inferred)") || !strings.Contains(r.stdout, "via token_log, evidence") || !strings.Contains(r.stdout, tokens+":2") {
		t.Errorf("explain: %+v", r)
	}
}
