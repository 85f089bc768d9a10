package ingest

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/firehose from its generator")

// firehoseDir is the Firehose-shaped fixture tree the CLI tests load.
const firehoseDir = "../testdata/firehose"

// firehoseObjects makes the fixture: what Kinesis Data Firehose writes to
// S3 from the Kinesis stream of a Twilio Event Streams Kinesis sink. Each
// Kinesis record is one CloudEvent, compact JSON; Firehose concatenates
// the records of an object with no separator, gzips the object, and names
// it <stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>.gz under the UTC hour
// it arrived (YYYY/MM/DD/HH/), not the hour of its events. Five objects
// over four hours across two days (and a month end); the last is cut off
// in the middle of a record. It returns the objects uncompressed, by path.
func firehoseObjects() map[string][]byte {
	rng := rand.New(rand.NewPCG(14, 2026))
	sid := func(prefix string) string {
		return fmt.Sprintf("%s%016x%016x", prefix, rng.Uint64(), rng.Uint64())
	}
	const account = "ACe268443e43d93dab7ebef303bbe9642f"
	conversations := []string{sid("CH"), sid("CH"), sid("CH")}
	people := []string{"alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"}
	users := map[string]string{}
	for _, p := range people {
		users[p] = sid("US")
	}
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	envelope := func(kind, schema string, at time.Time, data string) string {
		return fmt.Sprintf(`{"specversion":"1.0","type":"com.twilio.conversations.%s","source":"AB00000000000000000000000001","id":"%s",`+
			`"dataschema":"https://events-schemas.twilio.com/Conversations.%s/2","datacontenttype":"application/json","time":"%s","data":%s}`,
			kind, sid("NO"), schema, ts(at), data)
	}
	event := func(i int, at time.Time) string {
		who := people[rng.IntN(len(people))]
		conv := conversations[rng.IntN(len(conversations))]
		created := at.Add(-13 * time.Millisecond)
		switch i % 4 {
		case 0, 1:
			return envelope("message.added", "MessageAdded", at, fmt.Sprintf(
				`{"AccountSid":"%s","Author":"%s","ParticipantSid":"%s","ConversationSid":"%s","MessageSid":"%s","Index":%d,`+
					`"MessageBody":"message %d","DateCreated":"%s","MessagingServiceSid":"MGb351bb9b0af6e4fc678749675c53ad67"}`,
				account, who, sid("MB"), conv, sid("IM"), i, i, ts(created)))
		case 2:
			return envelope("participant.added", "ParticipantAdded", at, fmt.Sprintf(
				`{"AccountSid":"%s","ParticipantSid":"%s","Identity":"%s","RoleSid":"RL01d18ef1983cbe57e584bda75115e557",`+
					`"ConversationSid":"%s","DateCreated":"%s"}`, account, sid("MB"), who, conv, ts(created)))
		default:
			return envelope("user.updated", "UserUpdated", at, fmt.Sprintf(
				`{"AccountSid":"%s","UserSid":"%s","Identity":"%s","FriendlyName":"%s","RoleSid":"RL4a8ac3d096cc80ad0d40d03e97f625ed",`+
					`"DateCreated":"2025-01-01T00:00:00.000Z","DateUpdated":"2025-01-01T00:00:00.000Z","IsOnline":true,"IsNotifiable":true}`,
				account, users[who], who, strings.Split(who, "@")[0]))
		}
	}
	objects := map[string][]byte{}
	arrivals := []time.Time{ // when Firehose wrote each object
		time.Date(2026, 10, 31, 22, 0, 7, 0, time.UTC),
		time.Date(2026, 10, 31, 23, 0, 9, 0, time.UTC),
		time.Date(2026, 10, 31, 23, 5, 11, 0, time.UTC),
		time.Date(2026, 11, 1, 0, 0, 4, 0, time.UTC), // holds events of October's last minutes
		time.Date(2026, 11, 1, 1, 0, 6, 0, time.UTC),
	}
	n := 0
	for o, arrived := range arrivals {
		var b bytes.Buffer
		for i := range 8 {
			n++
			b.WriteString(event(n, arrived.Add(-5*time.Minute+time.Duration(i)*20*time.Second+131*time.Millisecond)))
		}
		if o == len(arrivals)-1 {
			n++
			cut := event(n, arrived)
			b.WriteString(cut[:len(cut)/2]) // the object ends inside a record
		}
		uuid := fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xfff,
			0x8000|rng.Uint32()&0x3fff, rng.Uint64()&0xffffffffffff)
		name := fmt.Sprintf("%s/mauledger-stream-1-%s-%s.gz", arrived.Format("2006/01/02/15"), arrived.Format("2006-01-02-15-04-05"), uuid)
		objects[name] = b.Bytes()
	}
	return objects
}

// TestFirehoseFixtureMatchesItsGenerator: the committed tree is what the
// generator makes (compared uncompressed: gzip's bytes may change with the
// Go version). go test ./ingest -run FirehoseFixture -update rewrites it.
func TestFirehoseFixtureMatchesItsGenerator(t *testing.T) {
	want := firehoseObjects()
	if *update {
		os.RemoveAll(firehoseDir)
		for name, body := range want {
			p := filepath.Join(firehoseDir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			zw := gzip.NewWriter(&b) // no name, no time: the bytes depend on the content only
			zw.Write(body)
			zw.Close()
			if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, err := EventFiles(firehoseDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		rel, _ := filepath.Rel(firehoseDir, f)
		names = append(names, filepath.ToSlash(rel))
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		body, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !bytes.Equal(body, want[filepath.ToSlash(rel)]) {
			t.Errorf("%s differs from what the generator makes (-update rewrites it)", f)
		}
	}
	wantNames := slices.Sorted(func(yield func(string) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(names, wantNames) {
		t.Errorf("fixture files %v, the generator makes %v", names, wantNames)
	}
}
