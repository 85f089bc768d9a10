package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/internal/fail"
	"github.com/mauledger/mauledger/internal/twiliofake"
)

const (
	fakeAccount = "AC00000000000000000000000000000001"
	fakeToken   = "fakeauthtoken0123"
)

var fakeSize = twiliofake.Size{Services: 2, Users: 120, Conversations: 150, Messages: 3000, ClosedEvery: 5}

// twilioEnv starts a fake Twilio account and sets the credentials for it.
func twilioEnv(t *testing.T) *twiliofake.Server {
	t.Helper()
	f := twiliofake.New(twiliofake.Synthetic(fakeAccount, fakeSize), fakeToken)
	t.Cleanup(f.Close)
	t.Setenv("TWILIO_ACCOUNT_SID", fakeAccount)
	t.Setenv("TWILIO_AUTH_TOKEN", fakeToken)
	t.Setenv("TWILIO_API_KEY", "")
	t.Setenv("TWILIO_API_SECRET", "")
	return f
}

func TestIngestTwilioCredentialFailuresExitFive(t *testing.T) {
	f := twilioEnv(t)
	db := filepath.Join(t.TempDir(), "m.duckdb")

	t.Setenv("TWILIO_AUTH_TOKEN", "")
	r := mauledger(t, "", "ingest", "twilio", "--db", db, "--twilio-base-url", f.URL)
	if r.code != fail.CodeAuth || !strings.Contains(r.stderr, "TWILIO_AUTH_TOKEN") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("no token: %+v", r)
	}

	t.Setenv("TWILIO_AUTH_TOKEN", "revokedtoken42")
	r = mauledger(t, "", "ingest", "twilio", "--db", db, "--twilio-base-url", f.URL)
	if r.code != fail.CodeAuth || !strings.Contains(r.stderr, "401") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("revoked token: %+v", r)
	}
	if strings.Contains(r.stdout+r.stderr, "revokedtoken42") {
		t.Errorf("the token was printed: %+v", r)
	}
}

func TestIngestTwilioRefusesUnknownServicesAndBadFlags(t *testing.T) {
	f := twilioEnv(t)
	db := filepath.Join(t.TempDir(), "m.duckdb")
	r := mauledger(t, "", "ingest", "twilio", "--db", db, "--twilio-base-url", f.URL, "--service", "ISnope")
	if r.code != fail.CodeInput || !strings.Contains(r.stderr, "unknown Conversation Service ISnope") {
		t.Errorf("unknown service: %+v", r)
	}
	r = mauledger(t, "", "ingest", "twilio", "--db", db, "--concurrency", "0")
	if r.code != fail.CodeUsage {
		t.Errorf("--concurrency 0: %+v", r)
	}
	r = mauledger(t, "", "ingest", "twilio", "--db", db, "--twilio-base-url", "not a url")
	if r.code == 0 || !strings.Contains(r.stderr, "--twilio-base-url") {
		t.Errorf("bad base URL: %+v", r)
	}
}

func TestIngestTwilioThenReconcile(t *testing.T) {
	f := twilioEnv(t)
	// Its SMS address was active, but a snapshot no longer sees it.
	f.DeleteWhenListed(twiliofake.SID("CH", 5))
	db := filepath.Join(t.TempDir(), "m.duckdb")
	r := mauledger(t, "", "ingest", "twilio", "--db", db, "--twilio-base-url", f.URL, "--concurrency", "4")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "twilio (changes): 120 users, 150 conversations (149 pulled, 0 unchanged, 1 deleted") {
		t.Fatalf("ingest twilio: %+v", r)
	}
	if strings.Contains(r.stdout+r.stderr, fakeToken) {
		t.Errorf("the token was printed")
	}
	// Not a terminal: the summary line and nothing else.
	if r.stderr != "" || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("output not one summary line: %+v", r)
	}

	r = mauledger(t, "", "reconcile", "--db", db, "--month", "2026-09", "--format", "json")
	if r.code != 0 {
		t.Fatalf("reconcile: %+v", r)
	}
	var rec struct {
		MAU        int      `json:"mau"`
		TwilioMAU  *int     `json:"twilio_mau"`
		Difference *int     `json:"difference"`
		Complete   bool     `json:"complete"`
		Causes     []string `json:"likely_causes"`
		Usage      []struct {
			Category string `json:"category"`
		} `json:"usage_records"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.TwilioMAU == nil || *rec.TwilioMAU != 270 || rec.Difference == nil || *rec.Difference != 270-rec.MAU || rec.Complete {
		t.Errorf("reconciliation %+v", rec)
	}
	if len(rec.Usage) != 2 {
		t.Errorf("%d usage records, want the 2 conversations* ones", len(rec.Usage))
	}
	if rec.MAU != 269 || len(rec.Causes) == 0 || !strings.HasPrefix(rec.Causes[0], "no live events for 2026-09") {
		t.Errorf("mauledger counted %d (want 120 users and 149 addresses); causes %q", rec.MAU, rec.Causes)
	}

	// An access token issued to someone nothing else shows is inferred
	// evidence: named as a cause, counted only under --evidence inferred.
	tokens := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(tokens, []byte("identity,issued_at\nghost,2026-09-10T08:00:00Z\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := mauledger(t, "", "ingest", "tokens", "--db", db, tokens); r.code != 0 {
		t.Fatalf("ingest tokens: %+v", r)
	}
	for evidence, want := range map[string]struct {
		mau   int
		cause string
	}{
		"strict":   {269, "1 subjects have only inferred evidence (an access token issued, not a proven connection), not counted under --evidence strict"},
		"inferred": {270, "1 subjects have only inferred evidence (an access token issued, not a proven connection), counted under --evidence inferred"},
	} {
		r = mauledger(t, "", "reconcile", "--db", db, "--month", "2026-09", "--format", "json", "--evidence", evidence)
		rec.Causes = nil
		if err := json.Unmarshal([]byte(r.stdout), &rec); err != nil {
			t.Fatalf("%s: %v %+v", evidence, err, r)
		}
		if rec.MAU != want.mau || !slices.ContainsFunc(rec.Causes, func(c string) bool { return strings.HasPrefix(c, want.cause) }) {
			t.Errorf("--evidence %s: MAU %d, causes %q; want %d and %q", evidence, rec.MAU, rec.Causes, want.mau, want.cause)
		}
	}

	r = mauledger(t, "", "reconcile", "--db", db, "--month", "2026-08")
	if r.code != 0 || !strings.Contains(r.stdout, "Twilio MAU:") || !strings.Contains(r.stdout, "no Twilio usage record") {
		t.Errorf("reconcile of a month without usage records: %+v", r)
	}
}

// TestIngestTwilioResumesAfterSIGKILL kills a pulling mauledger process
// outright, then runs the pull again: the tables end as an uninterrupted
// pull leaves them.
func TestIngestTwilioResumesAfterSIGKILL(t *testing.T) {
	f := twilioEnv(t)
	want := filepath.Join(t.TempDir(), "want.duckdb")
	if r := mauledger(t, "", "ingest", "twilio", "--db", want, "--twilio-base-url", f.URL); r.code != 0 {
		t.Fatalf("clean pull: %+v", r)
	}
	f.Requests()

	f.SetLatency(5 * time.Millisecond)
	db := filepath.Join(t.TempDir(), "m.duckdb")
	cmd := exec.Command(os.Args[0], "ingest", "twilio", "--db", db, "--twilio-base-url", f.URL, "--concurrency", "2")
	cmd.Env = append(os.Environ(), "MAULEDGER_TEST_CLI=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once it has pulled about half the conversations.
	seen := 0
	for deadline := time.Now().Add(time.Minute); seen < 160 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		seen += len(f.Requests())
	}
	cmd.Process.Kill()
	cmd.Wait()
	if seen < 160 {
		t.Fatal("the child made too few requests before the deadline")
	}

	f.SetLatency(0)
	r := mauledger(t, "", "ingest", "twilio", "--db", db, "--twilio-base-url", f.URL)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "twilio (resumed)") {
		t.Fatalf("resume: %+v", r)
	}
	if got, wantTables := dumpTwilio(t, db), dumpTwilio(t, want); got != wantTables {
		t.Errorf("tables after SIGKILL and resume differ from a clean pull")
	}
}

func dumpTwilio(t *testing.T, path string) string {
	t.Helper()
	s, err := ingest.OpenExisting(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b strings.Builder
	for _, table := range []string{"twilio_services", "twilio_users", "twilio_conversations", "twilio_participants", "twilio_messages", "twilio_usage_records"} {
		var n int
		var digest string
		err := s.DB.QueryRow(`SELECT count(*), coalesce(bit_xor(hash(r)), 0)::VARCHAR
			FROM (SELECT * EXCLUDE (fetched_at) FROM `+table+`) r`).Scan(&n, &digest)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %d %s\n", table, n, digest)
	}
	return b.String()
}

func TestIngestTwilioIntoALockedDatabaseExitsFourAndPullsNothing(t *testing.T) {
	f := twilioEnv(t)
	db := loadedDB(t)
	holder, err := ingest.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	f.Requests()
	cmd := exec.Command(os.Args[0], "ingest", "twilio", "--db", db, "--twilio-base-url", f.URL)
	cmd.Env = append(os.Environ(), "MAULEDGER_TEST_CLI=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	exit, ok := err.(*exec.ExitError)
	if !ok || exit.ExitCode() != fail.CodeStore || !strings.Contains(stderr.String(), "locked by another process") {
		t.Fatalf("ingest twilio on a locked database: %v, stderr %q", err, stderr.String())
	}
	if n := len(f.Requests()); n != 0 {
		t.Errorf("%d requests to Twilio before the database was open", n)
	}
}
