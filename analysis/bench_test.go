package analysis

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/demo"
)

var benchIdentities = flag.Int("bench-identities", 1_000_000, "identities billed in BenchmarkIdentities' generated month")

// BenchmarkIdentities generates a one-month account of about
// -bench-identities billed identities (nine in ten "guest-{uuid}" guests, the
// rest named users; about six events each), loads it into a fresh database
// in the temp dir and stores its ledger as every ingest does (not timed;
// ledger-refresh-s), then times `mauledger identities --format json` for
// the month: the findings and every identity's verdicts and lint, encoded.
// Target (issues 5 and 13): under 5 s for a million identities.
//
//	go test ./analysis -run '^$' -bench Identities -benchtime 1x -timeout 60m
func BenchmarkIdentities(b *testing.B) {
	dir := b.TempDir()
	input := filepath.Join(dir, "events.ndjson")
	guests := *benchIdentities * 9 / 10
	if _, err := demo.GenerateFile(input, demo.Config{
		Seed: 5, Start: time.Date(2026, time.October, 1, 0, 0, 0, 0, time.UTC), Months: 1, Services: 3,
		StableUsers: *benchIdentities - guests, GuestsPerMonth: guests,
	}); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s, err := ingest.Open(ctx, filepath.Join(dir, "bench.duckdb"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	in, _ := os.Open(input)
	res, err := s.LoadEvents(ctx, input, in)
	in.Close()
	os.Remove(input)
	if err != nil || len(res.Rejected) > 0 {
		b.Fatalf("load: %v, %d rejected", err, len(res.Rejected))
	}
	// Every ingest ends by storing the ledger: the command does not pay it.
	refreshStart := time.Now()
	if _, err := Refresh(ctx, s.DB); err != nil {
		b.Fatal(err)
	}
	refresh := time.Since(refreshStart)
	oct := MonthRange{From: Month{Year: 2026, Month: 10}, To: Month{Year: 2026, Month: 10}}
	identities := 0
	b.ResetTimer()
	for range b.N {
		a, err := New(ctx, s.DB, DefaultSettings())
		if err != nil {
			b.Fatal(err)
		}
		ids, err := a.Identities(ctx, oct, DefaultHygieneOptions())
		if err != nil {
			b.Fatal(err)
		}
		if err := json.NewEncoder(io.Discard).Encode(ids); err != nil {
			b.Fatal(err)
		}
		a.Close()
		identities = len(ids.Months[0].Subjects)
	}
	b.StopTimer()
	b.ReportMetric(float64(identities), "identities")
	b.ReportMetric(refresh.Seconds(), "ledger-refresh-s")
}
