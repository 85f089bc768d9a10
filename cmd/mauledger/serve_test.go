package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/ingest/spool"
	"github.com/mauledger/mauledger/internal/fail"
	"github.com/mauledger/mauledger/internal/twiliofake"
)

const (
	testAuthToken = "0123456789abcdef0123456789abcdef"
	testPublicURL = "https://hooks.example.com"
)

// serveProcess is a child `mauledger serve` on a free loopback port.
type serveProcess struct {
	cmd    *exec.Cmd
	addr   string
	mu     sync.Mutex
	stderr strings.Builder
	exited chan struct{}
}

func startServe(t *testing.T, spoolDir string, flags ...string) *serveProcess {
	t.Helper()
	if len(flags) == 0 {
		flags = []string{"--public-url", testPublicURL}
	}
	p := &serveProcess{exited: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], append([]string{"serve", "--addr", "127.0.0.1:0", "--spool", spoolDir}, flags...)...)
	p.cmd.Env = append(os.Environ(), "MAULEDGER_TEST_CLI=1", "TWILIO_AUTH_TOKEN="+testAuthToken)
	errPipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.exited; p.cmd.Wait() })
	addrc := make(chan string, 1)
	go func() {
		defer close(p.exited)
		listening := regexp.MustCompile(`msg=serving addr=(\S+)`)
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
	}()
	select {
	case p.addr = <-addrc:
	case <-p.exited:
		t.Fatalf("serve exited: %s", p.log())
	case <-time.After(time.Minute):
		t.Fatalf("serve did not start: %s", p.log())
	}
	return p
}

func (p *serveProcess) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// post sends one signed message webhook and says whether serve acknowledged it.
func (p *serveProcess) post(client *http.Client, sid string) bool {
	form := url.Values{
		"EventType": {"onMessageAdded"}, "Source": {"SDK"}, "ClientIdentity": {"user-" + sid},
		"ChatServiceSid": {"IS1"}, "ConversationSid": {"CH1"}, "MessageSid": {sid},
		"DateCreated": {"2026-11-01T10:00:00Z"}, "RetryCount": {"0"},
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+p.addr+"/twilio/conversations", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliofake.Signature(testAuthToken, testPublicURL+"/twilio/conversations", form))
	req.Header.Set("I-Twilio-Idempotency-Token", "tok-"+sid)
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stream posts events from several clients until stop is closed (or a
// minute has passed, should serve stall) and returns the message SIDs
// serve acknowledged.
func (p *serveProcess) stream(prefix string, stop <-chan struct{}, acked func(int)) []string {
	deadline := time.Now().Add(time.Minute)
	var (
		mu   sync.Mutex
		sids []string
		wg   sync.WaitGroup
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 5 * time.Second}
			for i := 0; time.Now().Before(deadline); i++ {
				select {
				case <-stop:
					return
				default:
				}
				sid := fmt.Sprintf("IM%s-%d-%d", prefix, w, i)
				if p.post(client, sid) {
					mu.Lock()
					sids = append(sids, sid)
					n := len(sids)
					mu.Unlock()
					acked(n)
				}
			}
		}()
	}
	wg.Wait()
	return sids
}

func TestServeKilledMidStreamLosesNothingAcknowledged(t *testing.T) {
	dir := t.TempDir()
	spoolDir := filepath.Join(dir, "spool")
	db := filepath.Join(dir, "m.duckdb")

	serve := startServe(t, spoolDir)
	stop := make(chan struct{})
	var once sync.Once
	acked := serve.stream("a", stop, func(n int) {
		if n == 500 { // mid-stream: the clients are still sending
			once.Do(func() {
				serve.cmd.Process.Signal(syscall.SIGKILL)
				go func() { <-serve.exited; close(stop) }()
			})
		}
	})
	if len(acked) < 500 {
		t.Fatalf("only %d events acknowledged before the kill: %s", len(acked), serve.log())
	}

	// SIGKILL cannot cut a write(2) short; a power cut can. Leave what it
	// would: the start of a line without its end.
	segs, err := spool.Segments(spoolDir)
	if err != nil || len(segs) == 0 {
		t.Fatalf("segments %v %v", segs, err)
	}
	torn := `{"EventType":"onMessageAdded","Source":"SDK","MessageSid":"IMtorn"`
	f, _ := os.OpenFile(segs[len(segs)-1].Path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(torn)
	f.Close()

	// A restarted serve reports the torn line, takes more events, and on
	// a SIGTERM mid-stream finishes the requests under way and exits 0.
	serve = startServe(t, spoolDir)
	if !strings.Contains(serve.log(), "torn line") {
		t.Errorf("restart did not report the torn line: %s", serve.log())
	}
	stop = make(chan struct{})
	var once2 sync.Once
	more := serve.stream("b", stop, func(n int) {
		if n == 200 {
			once2.Do(func() {
				serve.cmd.Process.Signal(syscall.SIGTERM)
				go func() { <-serve.exited; close(stop) }()
			})
		}
	})
	if err := serve.cmd.Wait(); err != nil || !strings.Contains(serve.log(), "stopped") {
		t.Errorf("SIGTERM: %v, log %s", err, serve.log())
	}
	acked = append(acked, more...)

	r := mauledger(t, "", "ingest", "events", "--db", db, "--spool", spoolDir)
	if r.code != 0 || !strings.Contains(r.stderr, "skipped a torn last line") || !strings.Contains(r.stderr, fmt.Sprintf("bytes=%d", len(torn))) {
		t.Fatalf("ingest --spool: %+v", r)
	}
	store, err := ingest.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	stored := map[string]bool{}
	rows, err := store.DB.Query(`SELECT message_sid FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var sid string
		rows.Scan(&sid)
		stored[sid] = true
	}
	rows.Close()
	var lost int
	for _, sid := range acked {
		if !stored[sid] {
			lost++
		}
	}
	t.Logf("%d events acknowledged (%d before the kill), %d stored", len(acked), len(acked)-len(more), len(stored))
	if lost > 0 || stored["IMtorn"] {
		t.Errorf("%d of %d acknowledged events lost; torn line loaded: %v", lost, len(acked), stored["IMtorn"])
	}
	// Loading again finds nothing new.
	store.Close()
	r = mauledger(t, "", "ingest", "events", "--db", db, "--spool", spoolDir)
	if r.code != 0 || !strings.Contains(r.stdout, "nothing new") {
		t.Errorf("second load: %+v", r)
	}
}

func TestServeRefusesToStartWithoutWhatItNeeds(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TWILIO_AUTH_TOKEN", "")
	r := mauledger(t, "", "serve", "--spool", dir, "--public-url", testPublicURL)
	if r.code != fail.CodeAuth || !strings.Contains(r.stderr, "TWILIO_AUTH_TOKEN is not set") {
		t.Errorf("no auth token: %+v", r)
	}
	t.Setenv("TWILIO_AUTH_TOKEN", testAuthToken)
	for _, args := range [][]string{
		{"serve", "--public-url", testPublicURL},
		{"serve", "--spool", dir},
		{"serve", "--spool", dir, "--public-url", "hooks.example.com"},
		{"serve", "--spool", dir, "--public-url", testPublicURL + "/?x=1"},
	} {
		if r := mauledger(t, "", args...); r.code != fail.CodeUsage {
			t.Errorf("%v: %+v", args, r)
		}
	}
	// A second serve on the same spool.
	serve := startServe(t, dir)
	r = mauledger(t, "", "serve", "--spool", dir, "--public-url", testPublicURL, "--addr", "127.0.0.1:0")
	if r.code != fail.CodeStore || !strings.Contains(r.stderr, "in use by another mauledger serve") {
		t.Errorf("second serve: %+v", r)
	}
	serve.cmd.Process.Signal(syscall.SIGTERM)
	<-serve.exited
}

func TestInsecureServeWarnsAndTakesUnsignedRequests(t *testing.T) {
	dir := t.TempDir()
	serve := startServe(t, dir, "--insecure-skip-signature")
	if !strings.Contains(serve.log(), "level=WARN") || !strings.Contains(serve.log(), "NOT checked") {
		t.Errorf("no loud warning: %s", serve.log())
	}
	resp, err := http.Post("http://"+serve.addr+"/twilio/conversations", "application/x-www-form-urlencoded",
		strings.NewReader("EventType=onUserAdded&Source=API&Identity=zoe&DateCreated=2026-11-01T00:00:00Z"))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("unsigned request: %v %v", resp, err)
	}
	resp.Body.Close()
	serve.cmd.Process.Signal(syscall.SIGTERM)
	<-serve.exited
	if err := serve.cmd.Wait(); err != nil {
		t.Errorf("SIGTERM: %v", err)
	}
	segs, _ := spool.Segments(dir)
	if len(segs) != 1 || segs[0].Size == 0 {
		t.Errorf("spool %+v", segs)
	}
}
