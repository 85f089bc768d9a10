//go:build unix

package capture

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mauledger/mauledger/ingest/spool"
)

var (
	serveFor     = flag.Duration("serve-for", 30*time.Second, "how long BenchmarkServe sends events")
	serveClients = flag.Int("serve-clients", 32, "concurrent connections of BenchmarkServe's client")
)

// BenchmarkServe sends signed Conversations webhooks from concurrent
// clients over loopback to the real handler and spool (signature check,
// fsync before each 2xx) for -serve-for, whatever b.N, then reads the spool
// back. It reports events/s acknowledged, p50-ms and p99-ms (request
// latency as the client saw it), and lost: acknowledged events missing
// from the spool. Target: at least 5,000 events/s, p99 under 50 ms, lost 0.
// cpu-us/event (client and server together) is the figure to compare
// between runs on a busy machine: the others move with the machine's load.
//
//	go test ./ingest/capture -run '^$' -bench Serve -benchtime 1x
func BenchmarkServe(b *testing.B) {
	dir := b.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w, err := spool.Open(dir, spool.DefaultOptions, log)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(Handler(Config{Spool: w, AuthToken: authToken, PublicURL: publicURL, Log: log}))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *serveClients}, Timeout: 5 * time.Second}

	type result struct {
		acked     []string
		latencies []time.Duration
		failed    int
	}
	results := make([]result, *serveClients)
	deadline := time.Now().Add(*serveFor)
	b.ResetTimer()
	cpu0 := cpuTime(b)
	start := time.Now()
	var wg sync.WaitGroup
	for c := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[c]
			mac := hmac.New(sha1.New, []byte(authToken))
			for i := 0; time.Now().Before(deadline); i++ {
				sid := fmt.Sprintf("IM%08d%08d", c, i)
				user := "user-" + strconv.Itoa(i%5000)
				// Twilio's side, kept cheap: the fields in sorted order, the
				// body form-encoded, the signature over URL and fields.
				fields := [][2]string{
					{"Author", user}, {"Body", "See you at 10, bring the slides"},
					{"ChatServiceSid", "IS0123456789abcdef0123456789abcdef"}, {"ClientIdentity", user},
					{"ConversationSid", "CH0123456789abcdef0123456789abcdef"},
					{"DateCreated", time.Now().UTC().Format(time.RFC3339)}, {"EventType", "onMessageAdded"},
					{"MessageSid", sid}, {"RetryCount", "0"}, {"Source", "SDK"},
				}
				var body []byte
				mac.Reset()
				mac.Write([]byte(publicURL + ConversationsPath))
				for j, f := range fields {
					if j > 0 {
						body = append(body, '&')
					}
					body = append(append(append(body, f[0]...), '='), url.QueryEscape(f[1])...)
					mac.Write([]byte(f[0] + f[1]))
				}
				req, _ := http.NewRequest(http.MethodPost, srv.URL+ConversationsPath, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Twilio-Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
				req.Header.Set("I-Twilio-Idempotency-Token", "tok-"+sid)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					r.failed++
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					r.failed++
					continue
				}
				r.latencies = append(r.latencies, time.Since(t0))
				r.acked = append(r.acked, sid)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime(b) - cpu0
	b.StopTimer()
	srv.Close()
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}

	spooled := spooledMessages(b, dir)
	var acked, failed, lost int
	var latencies []time.Duration
	for _, r := range results {
		acked += len(r.acked)
		failed += r.failed
		latencies = append(latencies, r.latencies...)
		for _, sid := range r.acked {
			if !spooled[sid] {
				lost++
			}
		}
	}
	if acked == 0 {
		b.Fatalf("no event acknowledged (%d failed)", failed)
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 { return float64(latencies[int(p*float64(len(latencies)-1))]) / 1e6 }
	b.ReportMetric(float64(acked)/elapsed.Seconds(), "events/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(acked), "acked")
	b.ReportMetric(float64(failed), "failed")
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(float64(cpu.Microseconds())/float64(acked), "cpu-us/event")
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// spooledMessages reads every spool line back and returns its MessageSid set.
func spooledMessages(b *testing.B, dir string) map[string]bool {
	segs, err := spool.Segments(dir)
	if err != nil {
		b.Fatal(err)
	}
	got := map[string]bool{}
	for _, s := range segs {
		f, err := os.Open(s.Path)
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), MaxBodyBytes*2)
		for sc.Scan() {
			var ev struct{ MessageSid string }
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				b.Fatalf("%s: %v", s.Name, err)
			}
			got[ev.MessageSid] = true
		}
		f.Close()
		if err := sc.Err(); err != nil {
			b.Fatal(err)
		}
	}
	return got
}
