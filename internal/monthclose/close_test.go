package monthclose

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mauledger/mauledger/analysis"
	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/fail"
	"github.com/mauledger/mauledger/internal/twiliofake"
)

var october = analysis.Month{Year: 2026, Month: time.October}

// The clock of the closes: soon after October ended, and once its 48-hour
// grace period has passed.
var (
	novemberFirst = time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)
	novemberTenth = time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
)

const (
	account = "AC00000000000000000000000000000001"
	token   = "fakeauthtoken0123"
	service = "IS00000000000000000000000000000001"
)

// message is a Conversations onMessageAdded webhook for an SDK message,
// as serve writes it (with _received_at).
func message(n int, identity string, at time.Time) string {
	return fmt.Sprintf(`{"AccountSid":%q,"ChatServiceSid":%q,"ConversationSid":"CH%032x","EventType":"onMessageAdded",`+
		`"Source":"SDK","ClientIdentity":%q,"MessageSid":"IM%032x","Index":"%d","Author":%q,"ParticipantSid":"MB%032x",`+
		`"Body":"hello","DateCreated":%q,"RetryCount":"0","_received_at":%q}`+"\n",
		account, service, 1, identity, n, n, identity, n, at.Format(time.RFC3339), at.Add(300*time.Millisecond).Format(time.RFC3339Nano))
}

// heartbeat is live capture of October with no gap longer than 4 hours:
// a message every 3 hours, by alice, bob and carol in turn.
func heartbeat() string {
	var b strings.Builder
	people := []string{"alice@example.com", "bob@example.com", "carol@example.com"}
	for i, at := 0, october.Start().Add(30*time.Minute); at.Before(october.End()); i, at = i+1, at.Add(3*time.Hour) {
		b.WriteString(message(i+1, people[i%len(people)], at))
	}
	return b.String()
}

// env is a close's world: a database, an inbox folder of event files the
// job loads, an output folder, and, when asked, a fake Twilio account the
// job pulls.
type env struct {
	t     *testing.T
	dir   string
	inbox string
	job   Job
	logs  *syncBuffer
}

func newEnv(t *testing.T, twilio bool) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, inbox: filepath.Join(dir, "inbox"), logs: &syncBuffer{}}
	if err := os.Mkdir(e.inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	e.job = Job{
		Month:    october,
		Database: filepath.Join(dir, "m.duckdb"),
		Events:   []string{filepath.Join(e.inbox, "*.ndjson")},
		Settings: analysis.DefaultSettings(),
		OutDir:   filepath.Join(dir, "out"),
		Formats:  []string{"json", "csv", "identities-json"},
		Version:  "test",
		Log:      slog.New(slog.NewTextHandler(e.logs, nil)),
	}
	if twilio {
		fake := twiliofake.New(twiliofake.Synthetic(account, twiliofake.Size{Services: 1, Users: 10, Conversations: 10, Messages: 40}), token)
		t.Cleanup(fake.Close)
		e.job.Twilio = &ingest.TwilioOptions{Credentials: ingest.TwilioCredentials{AccountSID: account, AuthToken: token},
			BaseURL: fake.URL, Concurrency: 2}
	}
	return e
}

func (e *env) drop(name, body string) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.inbox, name), []byte(body), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) close(now time.Time) Result {
	e.t.Helper()
	res, err := e.run(now)
	if err != nil {
		e.t.Fatalf("close: %v\nlogs:\n%s", err, e.logs)
	}
	return res
}

func (e *env) run(now time.Time) (Result, error) {
	job := e.job
	job.Now = func() time.Time { return now }
	return Run(context.Background(), job)
}

func (e *env) monthDir() string { return filepath.Join(e.job.OutDir, october.String()) }

func (e *env) manifest(version int) Manifest {
	e.t.Helper()
	var m Manifest
	e.readJSON(filepath.Join(e.monthDir(), fmt.Sprintf("v%d", version), manifestName), &m)
	return m
}

func (e *env) readJSON(path string, v any) {
	e.t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		e.t.Fatalf("%s: %v", path, err)
	}
}

// versions lists the month folder's entries, the hidden ones included.
func (e *env) versions() []string {
	e.t.Helper()
	entries, err := os.ReadDir(e.monthDir())
	if err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for _, en := range entries {
		names = append(names, en.Name())
	}
	return names
}

func (e *env) latest() string {
	e.t.Helper()
	target, err := os.Readlink(filepath.Join(e.monthDir(), latestName))
	if err != nil {
		e.t.Fatal(err)
	}
	return target
}

// checkFiles checks that a version's files are the ones its manifest
// lists, with the sizes and SHA-256 it gives.
func (e *env) checkFiles(version int) {
	e.t.Helper()
	dir := filepath.Join(e.monthDir(), fmt.Sprintf("v%d", version))
	m := e.manifest(version)
	listed := []string{manifestName}
	for _, f := range m.Files {
		b, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil {
			e.t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(b)) != f.Bytes {
			e.t.Errorf("v%d/%s: manifest says %d bytes %s, the file is %d bytes %x", version, f.Name, f.Bytes, f.SHA256, len(b), sum)
		}
		listed = append(listed, f.Name)
	}
	entries, _ := os.ReadDir(dir)
	for _, en := range entries {
		if !slices.Contains(listed, en.Name()) {
			e.t.Errorf("v%d/%s is not in the manifest", version, en.Name())
		}
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestCloseVersionsAMonthAndRestatesWhatLateDataChanged walks a month's
// life: a first close, a repeat that changes nothing, a late file that
// bills one more identity, and a late file that changes nothing billed.
func TestCloseVersionsAMonthAndRestatesWhatLateDataChanged(t *testing.T) {
	e := newEnv(t, true)
	e.drop("live.ndjson", heartbeat())

	first := e.close(novemberTenth)
	if !first.Written || first.Version != 1 || first.Status != Final || first.Restates != nil || first.ActiveUsers != 3 {
		t.Fatalf("first close: %+v\n%s", first, e.logs)
	}
	m := e.manifest(1)
	if m.Schema != ManifestSchema || m.Month != "2026-10" || m.Status != Final || m.Figures.ActiveUsers != 3 || !m.Figures.Complete ||
		m.Run.Mauledger != "test" || m.Run.DatabaseSchema != ingest.SchemaVersion() || m.Settings.Scope != analysis.ScopeService {
		t.Errorf("manifest v1: %+v", m)
	}
	if steps := len(m.Sources.Loaded); steps != 2 || m.Sources.Loaded[0].Step != "ingest twilio" ||
		m.Sources.Loaded[1].Step != "ingest events" || m.Sources.Loaded[1].Loaded != 248 {
		t.Errorf("manifest v1 sources loaded: %+v", m.Sources.Loaded)
	}
	if w := m.Sources.Stored.Events[0]; w.Source != "webhook" || w.Items != 248 || w.Last == nil ||
		!w.Last.Equal(time.Date(2026, 10, 31, 21, 30, 0, 3e8, time.UTC)) || m.Sources.Stored.Twilio.Runs != 1 {
		t.Errorf("manifest v1 sources stored: %+v", m.Sources.Stored)
	}
	e.checkFiles(1)
	if e.latest() != "v1" {
		t.Errorf("latest -> %s, want v1", e.latest())
	}

	again := e.close(novemberTenth.Add(time.Hour))
	if again.Written || again.Version != 1 || Summary(again) != "2026-10 unchanged: v1" {
		t.Errorf("repeat: %+v, %q", again, Summary(again))
	}
	if got := e.versions(); !slices.Equal(got, []string{"latest", "v1"}) {
		t.Errorf("after the repeat the month folder holds %v", got)
	}

	e.drop("late.ndjson", message(1000, "dave@example.com", time.Date(2026, 10, 20, 12, 0, 0, 0, time.UTC)))
	second := e.close(novemberTenth.Add(2 * time.Hour))
	if !second.Written || second.Version != 2 || second.ActiveUsers != 4 || !second.RestatesFinal() ||
		*second.Restates != (Restated{Version: 1, Status: Final, ActiveUsers: 3, Added: 1, Removed: 0}) {
		t.Fatalf("close after a late file: %+v", second)
	}
	var r Restatement
	e.readJSON(filepath.Join(second.Dir, "restatement.json"), &r)
	if r.Schema != RestatementSchema || r.From.ActiveUsers != 3 || r.To.ActiveUsers != 4 || r.From.Cost.Total != 0 ||
		!slices.Equal(r.Changed, []string{"billed", "report", "identities"}) || !r.SubjectsCompared || r.Added != 1 || r.Removed != 0 {
		t.Errorf("restatement: %+v", r)
	}
	if len(r.Subjects) != 1 || r.Subjects[0] != (SubjectChange{Change: "added", ServiceSID: service, Kind: "identity",
		Subject: "dave@example.com", Activities: "1", At: "2026-10-20T12:00:00.3Z", Rule: "sdk.message", Source: "webhook",
		Origin: "SDK", Evidence: fmt.Sprintf("IM%032x", 1000)}) {
		t.Errorf("restatement subjects: %+v", r.Subjects)
	}
	if rows := readCSV(t, filepath.Join(second.Dir, "restatement.csv")); len(rows) != 2 || rows[1][0] != "added" || rows[1][3] != "dave@example.com" {
		t.Errorf("restatement.csv: %v", rows)
	}
	e.checkFiles(1) // v1 is as it was
	e.checkFiles(2)
	if e.latest() != "v2" || !strings.Contains(e.logs.String(), `msg="a final month is restated"`) {
		t.Errorf("latest -> %s; logs:\n%s", e.latest(), e.logs)
	}
	if m := e.manifest(2); m.Restates == nil || m.Restates.Version != 1 {
		t.Errorf("manifest v2 restates %+v", m.Restates)
	}

	// A late copy of what is loaded already changes nothing.
	e.drop("repeat.ndjson", message(1000, "dave@example.com", time.Date(2026, 10, 20, 12, 0, 0, 0, time.UTC)))
	if third := e.close(novemberTenth.Add(3 * time.Hour)); third.Written || third.Version != 2 {
		t.Errorf("close after a duplicate: %+v", third)
	}
}

// TestCloseIsPreliminaryUntilCompleteAndPastItsGrace: soon after the
// month's end, or without a REST snapshot after it, a version is
// preliminary; the close after the grace period makes it final with the
// same figures, and says that only the status changed.
func TestCloseIsPreliminaryUntilCompleteAndPastItsGrace(t *testing.T) {
	e := newEnv(t, true)
	e.drop("live.ndjson", heartbeat())
	early := e.close(novemberFirst)
	if !early.Written || early.Status != Preliminary || early.Version != 1 {
		t.Fatalf("close 6 hours after the month: %+v", early)
	}
	if m := e.manifest(1); !m.Figures.Complete || !m.FinalFrom.Equal(time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("manifest: complete %v, final from %s", m.Figures.Complete, m.FinalFrom)
	}
	if again := e.close(novemberFirst.Add(time.Hour)); again.Written {
		t.Errorf("a repeat within the grace period wrote v%d", again.Version)
	}
	final := e.close(novemberTenth)
	if !final.Written || final.Version != 2 || final.Status != Final || final.RestatesFinal() || final.Restates.Added != 0 || final.Restates.Removed != 0 {
		t.Fatalf("close after the grace period: %+v", final)
	}
	var r Restatement
	e.readJSON(filepath.Join(final.Dir, "restatement.json"), &r)
	if !slices.Equal(r.Changed, []string{"report", "status"}) || r.From.Status != Preliminary || r.To.Status != Final || len(r.Subjects) != 0 {
		t.Errorf("restatement of a month becoming final: %+v", r)
	}

	// No REST snapshot since the month ended: never complete, never final.
	n := newEnv(t, false)
	n.drop("live.ndjson", heartbeat())
	if res := n.close(novemberTenth.AddDate(1, 0, 0)); res.Status != Preliminary {
		t.Errorf("a month without a snapshot after it closed as %s", res.Status)
	}
	if m := n.manifest(1); m.Figures.Complete || len(m.Figures.Coverage.Reasons) == 0 {
		t.Errorf("coverage without a snapshot: %+v", m.Figures.Coverage)
	}
}

func TestCloseRefusesAMonthNotOverOrWithoutEvidence(t *testing.T) {
	e := newEnv(t, false)
	e.drop("live.ndjson", heartbeat())
	_, err := e.run(time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC))
	if !errors.Is(err, ErrNotOver) || fail.Code(err) != fail.CodeUsage || !strings.Contains(err.Error(), "the last full month is 2026-09") {
		t.Errorf("closing October on its last day: %v (exit %d)", err, fail.Code(err))
	}
	e.job.Month = analysis.Month{Year: 2026, Month: time.August}
	_, err = e.run(novemberTenth)
	if !errors.Is(err, ErrNoEvidence) || fail.Code(err) != fail.CodeUsage {
		t.Errorf("closing a month without evidence: %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.job.OutDir, "2026-08")); err == nil {
		t.Error("a refused close left a month folder")
	}
}

// TestCloseTakesItsOutputFoldersLock: a second close on the same output
// folder is refused, naming the first; the lock of a close that is gone is
// taken over, with a warning.
func TestCloseTakesItsOutputFoldersLock(t *testing.T) {
	e := newEnv(t, false)
	e.drop("live.ndjson", heartbeat())
	if err := os.MkdirAll(e.job.OutDir, 0o755); err != nil {
		t.Fatal(err)
	}
	held, err := takeLock(e.job.OutDir, novemberFirst, e.job.Log)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.run(novemberTenth)
	if !errors.Is(err, ErrLocked) || fail.Code(err) != fail.CodeStore || !strings.Contains(err.Error(), fmt.Sprintf("pid %d on ", os.Getpid())) {
		t.Errorf("a second close: %v (exit %d)", err, fail.Code(err))
	}
	held.release()
	if strings.Contains(e.logs.String(), "took over") {
		t.Errorf("a released lock was taken over:\n%s", e.logs)
	}

	// A killed close leaves its lock file naming it, unlocked.
	stale, _ := json.Marshal(holder{PID: 999999, Host: "gone", StartedAt: novemberFirst})
	if err := os.WriteFile(filepath.Join(e.job.OutDir, lockName), stale, 0o644); err != nil {
		t.Fatal(err)
	}
	if res := e.close(novemberTenth); res.Version != 1 {
		t.Errorf("close after a stale lock: %+v", res)
	}
	if logs := e.logs.String(); !strings.Contains(logs, `msg="took over the lock of a close that is gone" pid=999999 host=gone`) {
		t.Errorf("no warning of the stale lock:\n%s", logs)
	}
	if b, _ := os.ReadFile(filepath.Join(e.job.OutDir, lockName)); len(b) != 0 {
		t.Errorf("the lock file still says %q after the close", b)
	}
}

// TestCloseRemovesWhatAKilledCloseLeft: a version folder still being
// written is hidden and partial; the next close removes it and writes v1.
func TestCloseRemovesWhatAKilledCloseLeft(t *testing.T) {
	e := newEnv(t, false)
	e.drop("live.ndjson", heartbeat())
	partial := filepath.Join(e.monthDir(), ".v1.partial-0000")
	if err := os.MkdirAll(partial, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(partial, "report.json"), []byte("{"), 0o644)
	if res := e.close(novemberTenth); res.Version != 1 || !res.Written {
		t.Fatalf("close: %+v", res)
	}
	if got := e.versions(); !slices.Equal(got, []string{"latest", "v1"}) {
		t.Errorf("month folder: %v", got)
	}
	e.checkFiles(1)
}

func TestCloseRefusesAnEditedVersion(t *testing.T) {
	e := newEnv(t, false)
	e.drop("live.ndjson", heartbeat())
	e.close(novemberTenth)
	if err := os.WriteFile(filepath.Join(e.monthDir(), "v1", manifestName), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := e.run(novemberTenth)
	if fail.Code(err) != fail.CodeInput || !strings.Contains(err.Error(), "must not be edited") {
		t.Errorf("close over an edited manifest: %v", err)
	}
}

// TestCloseCountsRejectedLinesAndGoesOn: a malformed line is logged as
// INPUT:LINE, counted in the result and the manifest; the rest is closed.
func TestCloseCountsRejectedLinesAndGoesOn(t *testing.T) {
	e := newEnv(t, false)
	e.drop("live.ndjson", heartbeat()+"{\"EventType\":\n")
	res := e.close(novemberTenth)
	if res.Rejected != 1 || !res.Written || !strings.Contains(Summary(res), "; 1 input lines rejected;") {
		t.Errorf("close: %+v %q", res, Summary(res))
	}
	if l := e.manifest(1).Sources.Loaded[0]; l.Rejected != 1 || l.Loaded != 248 {
		t.Errorf("manifest load: %+v", l)
	}
	if !strings.Contains(e.logs.String(), `msg="rejected line" month=2026-10 input=`) || !strings.Contains(e.logs.String(), "line=249 reason=") {
		t.Errorf("logs:\n%s", e.logs)
	}
}

// TestCloseRedactsEveryFileItWrites: with redact, no identity reaches a
// version, the restatement included, and versions still compare.
func TestCloseRedactsEveryFileItWrites(t *testing.T) {
	e := newEnv(t, false)
	e.job.Redact = true
	e.job.Formats = []string{"json", "csv", "html", "identities-csv", "identities-json", "identities-html"}
	e.drop("live.ndjson", heartbeat())
	e.close(novemberTenth)
	e.drop("late.ndjson", message(1000, "dave@example.com", time.Date(2026, 10, 20, 12, 0, 0, 0, time.UTC)))
	res := e.close(novemberTenth)
	if res.Restates == nil || res.Restates.Added != 1 {
		t.Fatalf("redacted restatement: %+v", res)
	}
	for _, v := range []string{"v1", "v2"} {
		entries, _ := os.ReadDir(filepath.Join(e.monthDir(), v))
		for _, en := range entries {
			b, _ := os.ReadFile(filepath.Join(e.monthDir(), v, en.Name()))
			if bytes.Contains(b, []byte("@example.com")) {
				t.Errorf("%s/%s holds an identity", v, en.Name())
			}
		}
	}
}

// TestCloseHealthcheckPings follows healthchecks.io: /start, then the
// check's URL on success or /fail on failure, with one run id; a ping that
// fails is a warning that does not name the check's secret path.
func TestCloseHealthcheckPings(t *testing.T) {
	pingRetryWait = 0
	var (
		mu    sync.Mutex
		pings []string
	)
	status := http.StatusOK
	hc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		pings = append(pings, r.Method+" "+r.URL.Path+" rid="+r.URL.Query().Get("rid")+" "+string(body))
		w.WriteHeader(status)
	}))
	defer hc.Close()
	e := newEnv(t, false)
	e.job.Healthcheck = hc.URL + "/ping/secret-uuid"
	e.drop("live.ndjson", heartbeat())
	res := e.close(novemberTenth)
	if len(pings) != 2 {
		t.Fatalf("pings: %q", pings)
	}
	rid := strings.Fields(pings[0])[2]
	if pings[0] != "POST /ping/secret-uuid/start "+rid+" close 2026-10 started" ||
		pings[1] != "POST /ping/secret-uuid "+rid+" "+Summary(res) || len(rid) != len("rid=")+36 {
		t.Errorf("pings of a close: %q", pings)
	}

	pings = nil
	e.job.Month = analysis.Month{Year: 2026, Month: time.August}
	if _, err := e.run(novemberTenth); err == nil {
		t.Fatal("closing August without evidence succeeded")
	}
	if len(pings) != 2 || !strings.HasPrefix(pings[1], "POST /ping/secret-uuid/fail ") || !strings.Contains(pings[1], "no evidence") {
		t.Errorf("pings of a failed close: %q", pings)
	}

	pings, status = nil, http.StatusInternalServerError
	e.job.Month = october
	if _, err := e.run(novemberTenth); err != nil {
		t.Errorf("a close whose pings fail: %v", err)
	}
	if len(pings) != 2*pingAttempts || !strings.Contains(e.logs.String(), `msg="healthcheck ping failed"`) ||
		strings.Contains(e.logs.String(), "secret-uuid") {
		t.Errorf("%d pings; logs:\n%s", len(pings), e.logs)
	}
}

// syncBuffer is a log buffer the pull's workers may write at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestCloseLoadsAnArchiveFolderOnce: sources.events may name a folder such
// as a synced Firehose archive (gzip objects of concatenated events); the
// close reads it as ingest events does, and a later close skips the
// objects it already loaded.
func TestCloseLoadsAnArchiveFolderOnce(t *testing.T) {
	e := newEnv(t, false)
	archive := filepath.Join(e.dir, "archive")
	object := filepath.Join(archive, "2026", "10", "31", "23", "mauledger-stream-1-2026-10-31-23-00-07-x.gz")
	if err := os.MkdirAll(filepath.Dir(object), 0o755); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(strings.ReplaceAll(heartbeat(), "\n", ""))) // concatenated, no separator
	zw.Close()
	if err := os.WriteFile(object, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	e.job.Events = []string{archive}
	first := e.close(novemberTenth.AddDate(1, 0, 0))
	if m := e.manifest(1); first.ActiveUsers != 3 || len(m.Sources.Loaded) != 1 || m.Sources.Loaded[0].Input != object ||
		m.Sources.Loaded[0].Loaded != 248 {
		t.Fatalf("first close: %+v, loaded %+v", first, m.Sources.Loaded)
	}
	again := e.close(novemberTenth.AddDate(1, 0, 1))
	if again.Written || !strings.Contains(e.logs.String(), "already_loaded_files=1") {
		t.Errorf("second close: %+v\n%s", again, e.logs)
	}
}
