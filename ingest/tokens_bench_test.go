package ingest

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mauledger/mauledger/analysis"
)

var benchTokens = flag.Int("bench-tokens", 1_000_000, "lines in the token log BenchmarkLoadTokens loads")

// BenchmarkLoadTokens loads a generated CSV token log of -bench-tokens
// lines (50,000 identities, one month) into a fresh database and reports
// tokens/s, then times that month's report with --evidence inferred
// (report-s), which runs every token through the ledger. No target was
// set; for scale, an app issuing a token per session logs about a million
// a month for 30,000 daily users.
//
//	go test ./ingest -run '^$' -bench LoadTokens -benchtime 1x
func BenchmarkLoadTokens(b *testing.B) {
	dir := b.TempDir()
	input := filepath.Join(dir, "tokens.csv")
	f, err := os.Create(input)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "identity,issued_at,service_sid")
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	step := 30 * 24 * time.Hour / time.Duration(*benchTokens) // spread over November
	for i := range *benchTokens {
		at := start.Add(time.Duration(i) * step)
		fmt.Fprintf(w, "user-%d@example.com,%s,IS0123456789abcdef0123456789abcdef\n", i%50_000, at.Format(time.RFC3339))
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()

	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(dir, "bench.duckdb"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	in, err := os.Open(input)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	b.ResetTimer()
	t0 := time.Now()
	res, err := s.LoadTokens(ctx, input, in)
	elapsed := time.Since(t0)
	b.StopTimer()
	if err != nil || res.Loaded != int64(*benchTokens) {
		b.Fatalf("loaded %+v: %v", res, err)
	}
	b.ReportMetric(float64(res.Loaded)/elapsed.Seconds(), "tokens/s")

	set := analysis.DefaultSettings()
	set.Evidence = analysis.EvidenceInferred
	t0 = time.Now()
	a, err := analysis.New(ctx, s.DB, set)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	nov := analysis.Month{Year: 2026, Month: 11}
	rep, err := a.Report(ctx, analysis.MonthRange{From: nov, To: nov}, analysis.ReportOptions{})
	if err != nil || rep.Months[0].ActiveUsers != min(50_000, *benchTokens) {
		b.Fatalf("report: %v, %d active users", err, rep.Months[0].ActiveUsers)
	}
	b.ReportMetric(time.Since(t0).Seconds(), "report-s")
}
