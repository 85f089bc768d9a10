package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mauledger/mauledger/internal/fail"
	"github.com/mauledger/mauledger/internal/twiliofake"
)

// lateMessage is a webhook that reaches mauledger after October was first
// closed: an SDK message by an identity October had not billed.
const lateMessage = `{"AccountSid":"AC00000000000000000000000000000001","ChatServiceSid":"IS1","ConversationSid":"CH1","EventType":"onMessageAdded","Source":"SDK","ClientIdentity":"late@example.com","MessageSid":"IM9","Index":"9","Author":"late@example.com","ParticipantSid":"MB9","Body":"hi","DateCreated":"2026-10-15T08:00:00Z","RetryCount":"0","_received_at":"2026-10-15T08:00:00.2Z"}` + "\n"

// closeEnv is a folder with an inbox of event files and a config that
// loads them, pulls the fake Twilio account f, and writes JSON and CSV.
type closeEnv struct {
	dir, config, out string
}

func newCloseEnv(t *testing.T, f *twiliofake.Server) closeEnv {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "inbox"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "inbox", "october.ndjson"), []byte(events), 0o644)
	config := fmt.Sprintf(`database: m.duckdb
sources:
  twilio: {enabled: true, concurrency: 1, base_url: %q}
  events: [inbox/*.ndjson]
output:
  dir: out
  formats: [json, csv]
`, f.URL)
	e := closeEnv{dir: dir, config: filepath.Join(dir, "mauledger.yaml"), out: filepath.Join(dir, "out")}
	if err := os.WriteFile(e.config, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

// start runs a close of October in a child process.
func (e closeEnv) start(t *testing.T) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "close", "--config", e.config, "--month", "2026-10")
	cmd.Env = append(os.Environ(), "MAULEDGER_TEST_CLI=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stderr
}

// waitLocked waits until the child holds the output folder's lock and has
// made some requests to the fake Twilio account.
func (e closeEnv) waitLocked(t *testing.T, f *twiliofake.Server) {
	t.Helper()
	requests := 0
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		requests += len(f.Requests())
		if b, _ := os.ReadFile(filepath.Join(e.out, ".mauledger-close.lock")); len(b) > 0 && requests >= 10 {
			return
		}
	}
	t.Fatal("the child close never held the lock while pulling")
}

func (e closeEnv) close(t *testing.T) result {
	t.Helper()
	return mauledger(t, "", "close", "--config", e.config, "--month", "2026-10")
}

// TestCloseRunsTwiceAtOnceIsKilledAndResumesAndRestates is the life of a
// scheduled close: two at once (one refused), one killed mid-pull and
// finished by the next, a late file restated as v2, and a repeat that
// changes nothing.
func TestCloseRunsTwiceAtOnceIsKilledAndResumesAndRestates(t *testing.T) {
	f := twilioEnv(t)
	e := newCloseEnv(t, f)
	f.SetLatency(20 * time.Millisecond)
	child, _ := e.start(t)
	e.waitLocked(t, f)

	second := e.close(t)
	if second.code != fail.CodeStore || !strings.Contains(second.stderr, "another close is running on "+e.out) ||
		!strings.Contains(second.stderr, fmt.Sprintf("pid %d on ", child.Process.Pid)) {
		t.Errorf("a second close at once: %+v", second)
	}

	child.Process.Kill()
	child.Wait()
	if _, err := os.Stat(filepath.Join(e.out, "2026-10", "v1")); err == nil {
		t.Fatal("the killed close had written v1 already: kill it earlier")
	}

	f.SetLatency(0)
	first := e.close(t)
	if first.code != fail.CodePreliminary || !strings.HasPrefix(first.stdout, "2026-10 v1 written, preliminary: MAU 1, cost 0.00 USD; ") ||
		!strings.Contains(first.stderr, `msg="took over the lock of a close that is gone" pid=`+fmt.Sprint(child.Process.Pid)) ||
		!strings.Contains(first.stderr, `msg="ingest twilio" month=2026-10 mode=resumed`) {
		t.Fatalf("the close after the killed one: %+v", first)
	}

	os.WriteFile(filepath.Join(e.dir, "inbox", "late.ndjson"), []byte(lateMessage), 0o644)
	restated := e.close(t)
	if restated.code != fail.CodePreliminary || !strings.HasPrefix(restated.stdout,
		"2026-10 v2 written, preliminary: MAU 2, cost 0.00 USD; restates v1 (MAU 1; 1 subjects added, 0 removed); ") {
		t.Fatalf("the close after a late file: %+v", restated)
	}
	rows := mustRead(filepath.Join(e.out, "2026-10", "v2", "restatement.csv"))
	if want := "change,service_sid,subject_kind,subject,activities,at,rule,source,origin,evidence\n" +
		"added,IS1,identity,late@example.com,1,2026-10-15T08:00:00.2Z,sdk.message,webhook,SDK,IM9\n"; rows != want {
		t.Errorf("restatement.csv:\n%s\nwant:\n%s", rows, want)
	}

	if again := e.close(t); again.code != 0 || again.stdout != "2026-10 unchanged: v2\n" {
		t.Errorf("a third close: %+v", again)
	}
	if target, _ := os.Readlink(filepath.Join(e.out, "2026-10", "latest")); target != "v2" {
		t.Errorf("latest -> %q", target)
	}
}

// TestCloseStopsCleanlyOnSIGTERM: a close told to stop exits 130 and
// leaves its lock free and no half-written version.
func TestCloseStopsCleanlyOnSIGTERM(t *testing.T) {
	f := twilioEnv(t)
	e := newCloseEnv(t, f)
	f.SetLatency(20 * time.Millisecond)
	child, stderr := e.start(t)
	e.waitLocked(t, f)
	child.Process.Signal(syscall.SIGTERM)
	err := child.Wait()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 130 || !strings.Contains(stderr.String(), "mauledger: interrupted") {
		t.Fatalf("close after SIGTERM: %v, stderr %q", err, stderr)
	}
	if b, err := os.ReadFile(filepath.Join(e.out, ".mauledger-close.lock")); err != nil || len(b) != 0 {
		t.Errorf("the lock file after SIGTERM: %q, %v", b, err)
	}
	if entries, _ := os.ReadDir(filepath.Join(e.out, "2026-10")); len(entries) != 0 {
		t.Errorf("the month folder after SIGTERM holds %v", entries)
	}
}

func TestCloseExitCodes(t *testing.T) {
	f := twilioEnv(t)
	e := newCloseEnv(t, f)
	bad := writeFile(t, "bad.yaml", "output:\n  dir: out\n  formts: [json]\n")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"close", "--config", filepath.Join(t.TempDir(), "none.yaml")}, fail.CodeInput, "none.yaml: no such file"},
		{[]string{"close", "--config", bad}, fail.CodeUsage, `bad.yaml: invalid config: line 3: unknown key "formts"`},
		{[]string{"close", "--config", e.config, "--month", "2026-13"}, fail.CodeUsage, "2026-13"},
		{[]string{"close", "--config", e.config, "--month", "2099-01"}, fail.CodeUsage, "the month is not over"},
		{[]string{"close", "--config", e.config, "--format", "yaml"}, fail.CodeUsage, `--format "yaml": want text or json`},
		{[]string{"close", "--config", e.config, "--log-format", "xml"}, fail.CodeUsage, `--log-format "xml": want text or json`},
		{[]string{"config", "check", bad}, fail.CodeUsage, `unknown key "formts"`},
	} {
		r := mauledger(t, "", tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: %+v, want exit %d with %q", tc.args, r, tc.code, tc.want)
		}
	}
	t.Setenv("TWILIO_AUTH_TOKEN", "")
	if r := mauledger(t, "", "close", "--config", e.config, "--month", "2026-10"); r.code != fail.CodeAuth {
		t.Errorf("close without credentials: %+v", r)
	}
}

// TestCloseLogsAsJSON: with --log-format json every stderr line is a JSON
// object with slog's fields, and --format json prints the result.
func TestCloseLogsAsJSON(t *testing.T) {
	f := twilioEnv(t)
	e := newCloseEnv(t, f)
	r := mauledger(t, "", "--log-format", "json", "close", "--config", e.config, "--month", "2026-10", "--format", "json")
	if r.code != fail.CodePreliminary {
		t.Fatalf("close: %+v", r)
	}
	var steps []string
	sc := bufio.NewScanner(strings.NewReader(r.stderr))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line["time"] == nil || line["level"] == nil || line["month"] != "2026-10" {
			t.Fatalf("stderr line %q: %v", sc.Text(), err)
		}
		steps = append(steps, line["msg"].(string))
	}
	if got := strings.Join(steps, ","); got != "ingest twilio,ingest events,ledger,written" {
		t.Errorf("steps logged: %s", got)
	}
	if strings.Contains(r.stderr, fakeToken) {
		t.Error("the logs hold the auth token")
	}
	var res struct {
		Month   string `json:"month"`
		Version int    `json:"version"`
		Status  string `json:"status"`
		Written bool   `json:"written"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.Month != "2026-10" || res.Version != 1 || res.Status != "preliminary" || !res.Written {
		t.Errorf("stdout %q: %+v %v", r.stdout, res, err)
	}
}

func TestConfigExampleIsAValidConfig(t *testing.T) {
	r := mauledger(t, "", "config", "example")
	path := writeFile(t, "mauledger.yaml", r.stdout)
	if r.code != 0 || !strings.Contains(r.stdout, "final_after: 48h") {
		t.Fatalf("config example: %+v", r)
	}
	if c := mauledger(t, "", "config", "check", path); c.code != 0 || c.stdout != path+": ok\n" {
		t.Errorf("config check of the example: %+v", c)
	}
	t.Setenv("MAULEDGER_CONFIG", path)
	if c := mauledger(t, "", "close", "--dry-run", "--month", "2026-10"); c.code != 0 || !strings.Contains(c.stdout, "config:     "+path) ||
		!strings.Contains(c.stdout, "sources:    none") {
		t.Errorf("close --dry-run with $MAULEDGER_CONFIG: %+v", c)
	}
}
