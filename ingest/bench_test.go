package ingest

import (
	"bufio"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/mauledger/mauledger/internal/demo"
)

var benchEvents = flag.Int("bench-events", 1_000_000, "events in the generated file BenchmarkLoadEvents loads")

// BenchmarkLoadEvents loads a generated NDJSON file of -bench-events events
// into a fresh database and reports events per second. The target (issue 2):
// 500,000 events/s on 10 million events, on 2 cores, with memory flat.
//
//	go test ./ingest -run '^$' -bench LoadEvents -benchtime 1x -bench-events 10000000
func BenchmarkLoadEvents(b *testing.B) {
	dir := b.TempDir()
	input := filepath.Join(dir, "events.ndjson")
	f, err := os.Create(input)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	stats, err := demo.Generate(w, demo.BenchConfig(*benchEvents))
	if err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	info, _ := os.Stat(input)
	b.SetBytes(info.Size())
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
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(stats.Lines)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
