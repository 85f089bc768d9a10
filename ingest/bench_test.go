package ingest

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mauledger/mauledger/analysis"
	"github.com/mauledger/mauledger/internal/demo"
	"github.com/mauledger/mauledger/reports"
)

var benchEvents = flag.Int("bench-events", 1_000_000, "events in the generated file BenchmarkLoadEvents loads")

// BenchmarkLoadEvents loads a generated NDJSON file of -bench-events events
// into a fresh database and reports events per second. Outside the load
// timing, it then times what `mauledger ingest events` does next, storing
// the activity ledger (ledger-s), and the JSON report of the twelve months
// (report-s). Targets (issue 2), on 2 cores: 500,000 events/s on 10 million
// events with memory flat, and the twelve-month report under 10 s.
//
//	go test ./ingest -run '^$' -bench LoadEvents -benchtime 1x -bench-events 10000000
func BenchmarkLoadEvents(b *testing.B) {
	dir := b.TempDir()
	input := filepath.Join(dir, "events.ndjson")
	stats, err := demo.GenerateFile(input, demo.BenchConfig(*benchEvents))
	if err != nil {
		b.Fatal(err)
	}
	info, _ := os.Stat(input)
	b.SetBytes(info.Size())
	var ledgerSeconds, reportSeconds float64
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		s, err := Open(context.Background(), filepath.Join(dir, "bench"+string(rune('a'+i))+".duckdb"))
		if err != nil {
			b.Fatal(err)
		}
		in, _ := os.Open(input)
		b.StartTimer()
		res, err := s.LoadEvents(context.Background(), input, in)
		b.StopTimer()
		if err != nil || len(res.Rejected) > 0 {
			b.Fatalf("load: %v, %d rejected", err, len(res.Rejected))
		}
		in.Close()
		start := time.Now()
		if _, err := analysis.Refresh(context.Background(), s.DB); err != nil {
			b.Fatal(err)
		}
		ledgerSeconds += time.Since(start).Seconds()
		reportSeconds += timeYearReport(b, s)
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(stats.Lines)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(ledgerSeconds/float64(b.N), "ledger-s")
	b.ReportMetric(reportSeconds/float64(b.N), "report-s")
}

// timeYearReport builds the twelve-month report of the benchmark account as
// `mauledger report --format json` does, and returns the seconds it took.
func timeYearReport(b *testing.B, s *Store) float64 {
	start := time.Now()
	a, err := analysis.New(context.Background(), s.DB, analysis.DefaultSettings())
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	rep, err := a.Report(context.Background(), analysis.MonthRange{
		From: analysis.Month{Year: 2026, Month: time.January}, To: analysis.Month{Year: 2026, Month: time.December}}, analysis.ReportOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if err := reports.WriteReport(io.Discard, rep, reports.Options{Format: reports.JSON}); err != nil {
		b.Fatal(err)
	}
	return time.Since(start).Seconds()
}
