package analysis

import (
	"context"
	"flag"
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
// in the temp dir (not timed), then times `mauledger identities` for the
// month, in its parts: ledger-s (materialising the activity ledger, which
// every command pays), hygiene-s (the findings) and list-s (every
// identity's verdicts, for CSV and JSON). Target (issue 5): under 5 s for a
// million identities.
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
	oct := MonthRange{From: Month{Year: 2026, Month: 10}, To: Month{Year: 2026, Month: 10}}
	var ledger, hygiene, list time.Duration
	identities := 0
	b.ResetTimer()
	for range b.N {
		a, err := New(ctx, s.DB, DefaultSettings())
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := a.selectRange(ctx, oct); err != nil {
			b.Fatal(err)
		}
		ledger += time.Since(start)
		start = time.Now()
		h, err := a.hygiene(ctx, oct, DefaultHygieneOptions())
		if err != nil {
			b.Fatal(err)
		}
		hygiene += time.Since(start)
		start = time.Now()
		months := map[string]*IdentityMonth{oct.From.String(): {}}
		if err := a.listSubjects(ctx, months); err != nil {
			b.Fatal(err)
		}
		list += time.Since(start)
		a.Close()
		identities = h[0].Identities
		if n := len(months[oct.From.String()].Subjects); n != identities {
			b.Fatalf("listed %d identities of %d", n, identities)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(identities), "identities")
	for name, d := range map[string]time.Duration{"ledger-s": ledger, "hygiene-s": hygiene, "list-s": list} {
		b.ReportMetric(d.Seconds()/float64(b.N), name)
	}
}
