package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mauledger/mauledger/internal/fail"
)

// copyTree copies the fixture tree at src to a new folder, so a test can
// add to it.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func gunzip(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestIngestEventsLoadsAFirehoseArchiveOnce loads the Firehose-shaped
// fixture tree (testdata/firehose, five gzip objects of concatenated
// CloudEvents, the last cut off inside a record), then again, then after
// Firehose added an object.
func TestIngestEventsLoadsAFirehoseArchiveOnce(t *testing.T) {
	archive := copyTree(t, "../../testdata/firehose")
	db := filepath.Join(t.TempDir(), "m.duckdb")
	truncated := filepath.Join(archive, "2026/11/01/01/mauledger-stream-1-2026-11-01-01-00-06-c5b01b00-45c0-4f0f-ac72-be26e7d5327e.gz")
	cutAt := strings.LastIndex(gunzip(t, truncated), `{"specversion"`)

	r := mauledger(t, "", "ingest", "events", "--db", db, archive)
	want := truncated + ":" + strconv.Itoa(cutAt) + ": truncated JSON object: the input ends inside it\n"
	if r.code != fail.CodeInput || r.stderr != want+"mauledger: 1 input line(s) rejected; the others were loaded\n" {
		t.Fatalf("exit %d, stderr %q, want %q", r.code, r.stderr, want)
	}
	if strings.Count(r.stdout, ": 8 events: 8 loaded, 0 duplicates, 0 ignored (not Conversations), 0 rejected\n") != 4 ||
		!strings.Contains(r.stdout, truncated+": 9 events: 8 loaded, 0 duplicates, 0 ignored (not Conversations), 1 rejected\n") {
		t.Errorf("first load:\n%s", r.stdout)
	}
	// In time order: the object of 22:00 first, the cut one last.
	if first := strings.SplitN(r.stdout, "\n", 2)[0]; !strings.Contains(first, "/2026/10/31/22/") {
		t.Errorf("first file loaded: %s", first)
	}
	stored := func() string {
		r := mauledger(t, "", "report", "--db", db, "--month", "2026-10", "--format", "json")
		if r.code != 0 {
			t.Fatalf("report: %+v", r)
		}
		return blankGeneratedAt(t, r.stdout)
	}
	october := stored()

	r = mauledger(t, "", "ingest", "events", "--db", db, archive)
	if r.code != 0 || r.stdout != "5 files already loaded, not read again\n" || r.stderr != "" {
		t.Fatalf("second run: %+v", r)
	}
	if stored() != october {
		t.Errorf("the second run changed the report")
	}

	// Firehose writes the next hour's object; a hidden partial download
	// beside it is left alone.
	next := filepath.Join(archive, "2026/11/01/02/mauledger-stream-1-2026-11-01-02-00-05-0d9f3c1e-5b2a-4c7e-9a41-6f0e2b7d8c13.gz")
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(nextObjectEvents))
	zw.Close()
	if err := os.MkdirAll(filepath.Dir(next), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(next, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(next), ".partial.gz"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = mauledger(t, "", "ingest", "events", "--db", db, archive)
	if r.code != 0 || r.stdout != next+": 2 events: 2 loaded, 0 duplicates, 0 ignored (not Conversations), 0 rejected\n"+
		"5 files already loaded, not read again\n" {
		t.Fatalf("run after a new object: %+v", r)
	}
}

// nextObjectEvents are two CloudEvents as Twilio's Kinesis sink sends them,
// concatenated as Firehose writes them.
const nextObjectEvents = `{"specversion":"1.0","type":"com.twilio.conversations.message.added","source":"AB00000000000000000000000001","id":"NO4f1c2a9e7b3d45e8a0c6b1d2e3f40516","dataschema":"https://events-schemas.twilio.com/Conversations.MessageAdded/2","datacontenttype":"application/json","time":"2026-11-01T01:58:12.131Z","data":{"AccountSid":"ACe268443e43d93dab7ebef303bbe9642f","Author":"erin@example.com","ParticipantSid":"MB9a0b1c2d3e4f50617283940a1b2c3d4e","ConversationSid":"CH65e1ef0aecbeb1a5d0379f2a647e75bc","MessageSid":"IM0f1e2d3c4b5a69788796a5b4c3d2e1f0","Index":3,"MessageBody":"hello","DateCreated":"2026-11-01T01:58:12.118Z","MessagingServiceSid":"MGb351bb9b0af6e4fc678749675c53ad67"}}` +
	`{"specversion":"1.0","type":"com.twilio.conversations.participant.added","source":"AB00000000000000000000000001","id":"NO7a6b5c4d3e2f10a9b8c7d6e5f4a3b2c1","dataschema":"https://events-schemas.twilio.com/Conversations.ParticipantAdded/2","datacontenttype":"application/json","time":"2026-11-01T01:59:40.131Z","data":{"AccountSid":"ACe268443e43d93dab7ebef303bbe9642f","ParticipantSid":"MB1b2c3d4e5f60718293a4b5c6d7e8f901","Identity":"frank@example.com","RoleSid":"RL01d18ef1983cbe57e584bda75115e557","ConversationSid":"CH65e1ef0aecbeb1a5d0379f2a647e75bc","DateCreated":"2026-11-01T01:59:40.118Z"}}`
