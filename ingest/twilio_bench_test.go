package ingest

import (
	"context"
	"flag"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mauledger/mauledger/internal/twiliofake"
)

var (
	benchConversations = flag.Int("bench-conversations", 10_000, "conversations in BenchmarkTwilioPull's account")
	benchLatency       = flag.Duration("bench-latency", 40*time.Millisecond, "the fake's latency per request")
	benchConcurrency   = flag.Int("bench-concurrency", 16, "--concurrency of the pull")
)

// BenchmarkTwilioPull pulls an account of -bench-conversations
// conversations with 5 users and 30 messages per conversation (10,000:
// 50,000 users, 300,000 messages) from the fake answering every request
// after -bench-latency, then pulls it again unchanged. It reports:
//
//   - wall-s, ideal-s and wall/ideal: ideal is requests × latency ÷
//     concurrency. Target: wall/ideal ≤ 1.25 at concurrency 16, 40 ms.
//
//   - rerun-req/open and rerun-req/closed: requests per open conversation
//     and per closed one on the unchanged re-run. Targets: ≤ 2 and 0.
//
//   - live-heap-MB: the pull's peak live Go heap above the fake's account.
//     Target: flat as the account grows (compare two -bench-conversations).
//
//     go test ./ingest -run '^$' -bench TwilioPull -benchtime 1x
//     go test ./ingest -run '^$' -bench TwilioPull -benchtime 1x -bench-conversations 2500
func BenchmarkTwilioPull(b *testing.B) {
	n := *benchConversations
	size := twiliofake.Size{Services: 3, Users: 5 * n, Conversations: n, Messages: 30 * n, ClosedEvery: 3}
	for i := range b.N {
		b.StopTimer()
		f := twiliofake.New(twiliofake.Synthetic(testAccount, size), testToken)
		f.SetLatency(*benchLatency)
		s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.duckdb"))
		if err != nil {
			b.Fatal(err)
		}
		opts := TwilioOptions{
			Credentials: TwilioCredentials{AccountSID: testAccount, AuthToken: testToken},
			BaseURL:     f.URL,
			Concurrency: *benchConcurrency,
		}
		runtime.GC()
		baseline := liveHeap()
		var peak atomic.Uint64
		// The fake logs every request; emptied as it goes, its log does not
		// count as the pull's memory.
		stop := sampleHeap(&peak, func() { f.Requests() })
		b.StartTimer()
		started := time.Now()
		res, err := NewTwilioPull(s, opts).Run(context.Background())
		wall := time.Since(started)
		b.StopTimer()
		stop()
		if err != nil {
			b.Fatal(err)
		}
		f.Requests()
		rerun, err := NewTwilioPull(s, opts).Run(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		perConversation := map[string]int{}
		for _, r := range f.Requests() {
			if i := strings.Index(r, "/Conversations/CH"); i >= 0 {
				perConversation[r[i+len("/Conversations/"):i+len("/Conversations/")+34]]++
			}
		}
		maxOpen, closedRequests := 0, 0
		for c := range n {
			if c%size.ClosedEvery == size.ClosedEvery-1 {
				closedRequests += perConversation[twiliofake.SID("CH", c)]
			} else {
				maxOpen = max(maxOpen, perConversation[twiliofake.SID("CH", c)])
			}
		}
		if rerun.Skipped != int64(n/size.ClosedEvery) {
			b.Errorf("re-run skipped %d conversations, want the %d closed ones", rerun.Skipped, n/size.ClosedEvery)
		}
		ideal := time.Duration(res.Requests) * *benchLatency / time.Duration(*benchConcurrency)
		if i == 0 {
			b.ReportMetric(wall.Seconds(), "wall-s")
			b.ReportMetric(ideal.Seconds(), "ideal-s")
			b.ReportMetric(wall.Seconds()/ideal.Seconds(), "wall/ideal")
			b.ReportMetric(float64(res.Requests), "requests")
			b.ReportMetric(float64(maxOpen), "rerun-req/open")
			b.ReportMetric(float64(closedRequests), "rerun-req/closed")
			b.ReportMetric(float64(peak.Load()-min(baseline, peak.Load()))/(1<<20), "live-heap-MB")
		}
		s.Close()
		f.Close()
	}
}

// liveHeap is the heap the last GC found live: what the process holds,
// without the garbage a GC cycle lets pile up in proportion to it (the fake
// account makes that large).
func liveHeap() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// sampleHeap records the peak live heap until stop is called, calling
// each first.
func sampleHeap(peak *atomic.Uint64, each func()) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			each()
			if h := liveHeap(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done) }
}
