package monthclose

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mauledger/mauledger/analysis"
	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/demo"
)

var benchCloseEvents = flag.Int("bench-close-events", 1_000_000, "events in the account BenchmarkClose closes a month of")

// BenchmarkClose closes October of a generated account of
// -bench-close-events events (the benchmark mix over 2026) with every
// format, then closes it again: written-s is the first close (the ledger
// already stored, as after an ingest), unchanged-s the repeat that finds
// nothing changed and writes nothing. Untimed: generating and loading.
//
//	go test ./internal/monthclose -run '^$' -bench Close -benchtime 1x
func BenchmarkClose(b *testing.B) {
	dir := b.TempDir()
	input := filepath.Join(dir, "events.ndjson")
	if _, err := demo.GenerateFile(input, demo.BenchConfig(*benchCloseEvents)); err != nil {
		b.Fatal(err)
	}
	var written, unchanged float64
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		db := filepath.Join(dir, "bench"+string(rune('a'+i))+".duckdb")
		load(b, db, input)
		b.StartTimer()
		job := Job{
			Month:    analysis.Month{Year: 2026, Month: time.October},
			Database: db,
			Settings: analysis.DefaultSettings(),
			OutDir:   filepath.Join(dir, "out"+string(rune('a'+i))),
			Formats:  []string{"xlsx", "json", "csv", "identities-csv", "identities-json"},
			Now:      func() time.Time { return time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC) },
		}
		start := time.Now()
		res, err := Run(context.Background(), job)
		if err != nil || !res.Written {
			b.Fatalf("first close: %+v, %v", res, err)
		}
		written += time.Since(start).Seconds()
		start = time.Now()
		res, err = Run(context.Background(), job)
		if err != nil || res.Written {
			b.Fatalf("repeat: %+v, %v", res, err)
		}
		unchanged += time.Since(start).Seconds()
		b.ReportMetric(float64(res.ActiveUsers), "mau")
	}
	b.ReportMetric(written/float64(b.N), "written-s")
	b.ReportMetric(unchanged/float64(b.N), "unchanged-s")
}

// load stores the generated events and their ledger in a fresh database.
func load(b *testing.B, db, input string) {
	b.Helper()
	s, err := ingest.Open(context.Background(), db)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	f, err := os.Open(input)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := s.LoadEvents(context.Background(), input, f); err != nil {
		b.Fatal(err)
	}
	if _, err := analysis.Refresh(context.Background(), s.DB); err != nil {
		b.Fatal(err)
	}
}
