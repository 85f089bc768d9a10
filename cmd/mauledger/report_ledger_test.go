package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mauledger/mauledger/internal/fail"
)

// generatedAt is the one line of a JSON report that differs between two
// runs of the same report.
var generatedAt = regexp.MustCompile(`(?m)^  "generated_at": "[^"]*",$`)

// blankGeneratedAt blanks the time a JSON report was made at, which must
// be there exactly once.
func blankGeneratedAt(t *testing.T, report string) string {
	t.Helper()
	if n := len(generatedAt.FindAllString(report, -1)); n != 1 {
		t.Fatalf("%d generated_at lines in the report", n)
	}
	return generatedAt.ReplaceAllString(report, `  "generated_at": "",`)
}

// firstDifference is the offset of the first byte where a and b differ.
func firstDifference(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// exportedLedger is the small capture's ledger, exported to a folder.
func exportedLedger(t *testing.T, db string, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ledger")
	if r := mauledger(t, "", append([]string{"export", "ledger", "--db", db, "--out", dir}, args...)...); r.code != 0 {
		t.Fatalf("export ledger: %+v", r)
	}
	return dir
}

func TestReportFromLedgerDirIsTheDatabasesReport(t *testing.T) {
	db := loadedDB(t)
	dir := exportedLedger(t, db)
	for _, name := range []string{"_manifest.json", "_coverage/hours.parquet", "_coverage/dated.parquet", "_coverage/runs.parquet",
		"_subject_months/month=2026-10/data_0.parquet", "month=2026-11/service=IS1/data_0.parquet"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
	// A month of an export without activity reads the empty tables' columns.
	quiet := exportedLedger(t, db, "--month", "2026-09")
	for _, c := range []struct{ dir, from, to string }{{dir, "2026-10", "2026-11"}, {quiet, "2026-09", "2026-09"}} {
		args := []string{"report", "--from", c.from, "--to", c.to, "--format", "json"}
		fromDB := mauledger(t, "", append(args, "--db", db)...)
		fromDir := mauledger(t, "", append(args, "--ledger", c.dir)...)
		if fromDB.code != 0 || fromDir.code != 0 || !strings.Contains(fromDB.stdout, `"month": "`+c.to+`"`) {
			t.Fatalf("from the database %+v, from the export %+v", fromDB, fromDir)
		}
		if want, got := blankGeneratedAt(t, fromDB.stdout), blankGeneratedAt(t, fromDir.stdout); got != want {
			t.Errorf("%s: the report of the export differs at byte %d:\n%s", c.from, firstDifference(want, got), got)
		}
		// Only the export of part of the ledger warns that hygiene sees less.
		if warned := strings.Contains(fromDir.stderr, "churn and one-shot identities see only its months"); warned != (c.dir == quiet) {
			t.Errorf("%s: stderr %q", c.from, fromDir.stderr)
		}
	}
}

func TestReportFromLedgerDirRefusesWhatItCannotReport(t *testing.T) {
	db := loadedDB(t)
	dir := exportedLedger(t, db)
	notExport := t.TempDir()
	otherRules := exportedLedger(t, db)
	manifest := filepath.Join(otherRules, "_manifest.json")
	b, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	edited := regexp.MustCompile(`"rules_version": "[0-9a-f]+"`).ReplaceAll(b, []byte(`"rules_version": "0123456789abcdef"`))
	if err := os.WriteFile(manifest, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--ledger", notExport, "--month", "2026-10"}, fail.CodeInput, "not an export of the ledger (no _manifest.json)"},
		{[]string{"--ledger", filepath.Join(notExport, "missing"), "--month", "2026-10"}, fail.CodeInput, "no such folder"},
		{[]string{"--ledger", otherRules, "--month", "2026-10"}, fail.CodeStore, "exported under other billing rules (rules 0123456789abcdef"},
		{[]string{"--ledger", dir, "--month", "2026-12"}, fail.CodeUsage, "holds 2026-10 to 2026-11, not 2026-12"},
		{[]string{"--ledger", dir, "--from", "2026-09", "--to", "2026-10"}, fail.CodeUsage, "holds 2026-10 to 2026-11, not 2026-09 to 2026-10"},
		{[]string{"--ledger", dir, "--db", db, "--month", "2026-10"}, fail.CodeUsage, "--ledger and --db"},
		{[]string{"--ledger", dir, "--month", "2026-10", "--redact"}, fail.CodeUsage, "exported without --redact"},
	} {
		r := mauledger(t, "", append([]string{"report"}, c.args...)...)
		if r.code != c.code || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and one line with %q", c.args, r.code, r.stderr, c.code, c.want)
		}
	}
}
