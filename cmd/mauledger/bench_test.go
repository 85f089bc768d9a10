package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/mauledger/mauledger/analysis"
	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/demo"
)

// BenchmarkDemoReports makes the demo account once (untimed), then times
// the report of its six months as `report --out FILE` writes it: HTML
// (html-s; target under 2 s) and the XLSX workbook (xlsx-s).
//
//	go test ./cmd/mauledger -run '^$' -bench DemoReports -benchtime 3x
func BenchmarkDemoReports(b *testing.B) {
	dir := b.TempDir()
	if code := runQuiet("demo", "--out-dir", dir); code != 0 {
		b.Fatalf("demo exited %d", code)
	}
	db := filepath.Join(dir, "demo.duckdb")
	var html, xlsx time.Duration
	b.ResetTimer()
	for range b.N {
		for _, f := range []struct {
			ext string
			d   *time.Duration
		}{{"html", &html}, {"xlsx", &xlsx}} {
			start := time.Now()
			if code := runQuiet("report", "--db", db, "--from", "2026-05", "--to", "2026-10", "--out", filepath.Join(dir, "r."+f.ext)); code != 0 {
				b.Fatalf("report %s exited %d", f.ext, code)
			}
			*f.d += time.Since(start)
		}
	}
	b.ReportMetric(html.Seconds()/float64(b.N), "html-s")
	b.ReportMetric(xlsx.Seconds()/float64(b.N), "xlsx-s")
}

var (
	benchIdentities    = flag.Int("bench-identities", 1_000_000, "identities billed in BenchmarkIdentities' generated month")
	benchIdentitiesDir = flag.String("bench-identities-dir", "", "BenchmarkIdentities keeps its database here between runs (made when missing)")
)

// BenchmarkIdentities generates a one-month account of about
// -bench-identities billed identities (nine in ten "guest-{uuid}" guests, the
// rest named users; about six events each) and loads it with `ingest
// events` into a fresh database (in the temp dir, or kept in
// -bench-identities-dir for later runs; a kept database made under other
// rules has its ledger rebuilt first, untimed), then times the whole
// command `mauledger identities --month 2026-10 --format json`, its output
// discarded: the findings and every identity's verdicts and lint, written.
// Target (issues 5 and 13): under 5 s for a million identities. cpu-s is
// the CPU time the command took, DuckDB's threads included.
//
//	go test ./cmd/mauledger -run '^$' -bench Identities -benchtime 1x -timeout 60m [-bench-identities-dir DIR]
func BenchmarkIdentities(b *testing.B) {
	dir := *benchIdentitiesDir
	if dir == "" {
		dir = b.TempDir()
	}
	db := filepath.Join(dir, fmt.Sprintf("identities-%d.duckdb", *benchIdentities))
	if _, err := os.Stat(db); err != nil {
		buildIdentitiesBase(b, dir, db)
	}
	identities := settleIdentitiesBase(b, db)
	var out bytes.Buffer
	cpu := cpuTime(b)
	b.ResetTimer()
	for range b.N {
		out.Reset()
		if code := run(context.Background(), []string{"identities", "--db", db, "--month", "2026-10", "--format", "json"},
			&streams{Out: io.Discard, Err: &out}); code != 0 {
			b.Fatalf("identities exited %d: %s", code, out.String())
		}
	}
	b.StopTimer()
	b.ReportMetric((cpuTime(b)-cpu).Seconds()/float64(b.N), "cpu-s")
	b.ReportMetric(float64(identities), "identities")
}

// buildIdentitiesBase generates BenchmarkIdentities' month and loads it
// into the database db.
func buildIdentitiesBase(b *testing.B, dir, db string) {
	input := filepath.Join(dir, "identities.ndjson")
	guests := *benchIdentities * 9 / 10
	if _, err := demo.GenerateFile(input, demo.Config{
		Seed: 5, Start: time.Date(2026, time.October, 1, 0, 0, 0, 0, time.UTC), Months: 1, Services: 3,
		StableUsers: *benchIdentities - guests, GuestsPerMonth: guests,
	}); err != nil {
		b.Fatal(err)
	}
	defer os.Remove(input)
	if code := runQuiet("ingest", "events", "--db", db, input); code != 0 {
		b.Fatalf("ingest events exited %d", code)
	}
}

// settleIdentitiesBase brings db's ledger up to date with these rules, as
// the last ingest would have, and counts the identities billed in October.
func settleIdentitiesBase(b *testing.B, db string) int {
	ctx := context.Background()
	s, err := ingest.Open(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := analysis.Refresh(ctx, s.DB); err != nil {
		b.Fatal(err)
	}
	var n int
	if err := s.DB.QueryRowContext(ctx, `SELECT count(DISTINCT (service_sid, subject)) FROM ledger_subject_months
		WHERE month = '2026-10' AND subject_kind = 'identity' AND NOT inferred AND NOT unknown_author AND NOT shadowed`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}

// cpuTime is the CPU time (user and system) this process has used, DuckDB's
// threads included: steadier than the time taken on a busy machine.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func runQuiet(args ...string) int {
	var out bytes.Buffer
	return run(context.Background(), args, &streams{Out: &out, Err: &out})
}
