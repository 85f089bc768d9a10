package ingest

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func openTestStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "t.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func load(t *testing.T, s *Store, input string) EventsResult {
	t.Helper()
	res, err := s.LoadEvents(context.Background(), "in.ndjson", strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func count(t *testing.T, s *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.DB.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

const (
	webhookMsg   = `{"EventType":"onMessageAdded","Source":"SDK","ClientIdentity":"alice","ChatServiceSid":"IS1","ConversationSid":"CH1","MessageSid":"IM1","Author":"alice","DateCreated":"2026-10-31T23:59:59.000Z","RetryCount":"0"}`
	webhookRetry = `{"EventType":"onMessageAdded","Source":"SDK","ClientIdentity":"alice","ChatServiceSid":"IS1","ConversationSid":"CH1","MessageSid":"IM1","Author":"alice","DateCreated":"2026-10-31T23:59:59.000Z","RetryCount":"1"}`
	cloudEvent   = `{"specversion":"1.0","type":"com.twilio.conversations.participant.removed","id":"EV1","time":"2026-11-03T00:00:00Z","data":{"ConversationSid":"CH1","ParticipantSid":"MB1","Identity":"bob","DateCreated":"2026-09-01T00:00:00Z","DateUpdated":"2026-11-02T10:00:00Z","MessagingBinding":{"Address":null}}}`
)

func TestLoadEventsNormalisesBothFormats(t *testing.T) {
	s := openTestStore(t)
	res := load(t, s, webhookMsg+"\n"+cloudEvent+"\n")
	if res.Loaded != 2 || len(res.Rejected) != 0 {
		t.Fatalf("loaded %d, rejected %v", res.Loaded, res.Rejected)
	}
	var (
		eventType, resource, action, format string
		at, eventTime, created, updated     time.Time
	)
	err := s.DB.QueryRow(`SELECT event_type, resource, action, format, occurred_at, event_time, date_created, date_updated
		FROM events WHERE event_id = 'EV1'`).
		Scan(&eventType, &resource, &action, &format, &at, &eventTime, &created, &updated)
	if err != nil {
		t.Fatal(err)
	}
	// A removal happens when the CloudEvent says: a removed participant's
	// DateUpdated is its last update, kept beside it for the rules.
	if eventType != "onParticipantRemoved" || resource != "participant" || action != "removed" ||
		format != "cloudevent" || !at.Equal(time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)) || !eventTime.Equal(at) ||
		!created.Equal(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)) || !updated.Equal(time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("cloudevent normalised to %s %s %s %s at %s (time %s, created %s, updated %s)",
			eventType, resource, action, format, at, eventTime, created, updated)
	}
	var origin, identity, author string
	err = s.DB.QueryRow(`SELECT origin, client_identity, author, occurred_at FROM events WHERE message_sid = 'IM1'`).
		Scan(&origin, &identity, &author, &at)
	if err != nil {
		t.Fatal(err)
	}
	if origin != "SDK" || identity != "alice" || !at.Equal(time.Date(2026, 10, 31, 23, 59, 59, 0, time.UTC)) {
		t.Errorf("webhook normalised to %s %s %s %s", origin, identity, author, at)
	}
}

// Times are stored in UTC whatever offset they were written with: a file
// converted by a tool in another zone, its _received_at with an offset, is
// the same instant. A plain cast to TIMESTAMP would drop the offset; an
// infinite time is no instant and is rejected.
func TestLoadEventsStoresTimesInUTC(t *testing.T) {
	s := openTestStore(t)
	offset := `{"EventType":"onMessageAdded","Source":"SDK","ClientIdentity":"alice","ChatServiceSid":"IS1","ConversationSid":"CH1","MessageSid":"IM2","Author":"alice","DateCreated":"2026-10-31T23:59:59.000Z","RetryCount":"0","_received_at":"2026-11-01T01:30:00.250+02:00"}`
	infinite := `{"EventType":"onUserAdded","Source":"API","ChatServiceSid":"IS1","UserSid":"US1","Identity":"carol","DateCreated":"infinity"}`
	res := load(t, s, offset+"\n"+infinite+"\n")
	if res.Loaded != 1 || len(res.Rejected) != 1 || res.Rejected[0].Reason != "DateCreated is not a timestamp: infinity" {
		t.Fatalf("loaded %d, rejected %v", res.Loaded, res.Rejected)
	}
	var received, occurred, created time.Time
	if err := s.DB.QueryRow(`SELECT received_at, occurred_at, date_created FROM events`).Scan(&received, &occurred, &created); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 10, 31, 23, 30, 0, 250e6, time.UTC)
	if !received.Equal(want) || !occurred.Equal(want) || !created.Equal(time.Date(2026, 10, 31, 23, 59, 59, 0, time.UTC)) {
		t.Errorf("received %s, occurred %s, created %s; want received and occurred %s", received, occurred, created, want)
	}
}

func TestLoadEventsDeduplicates(t *testing.T) {
	s := openTestStore(t)
	update := func(at, retry string) string {
		return `{"EventType":"onUserUpdated","Source":"API","ChatServiceSid":"IS1","UserSid":"US1","Identity":"carol","DateUpdated":"` + at + `","RetryCount":"` + retry + `"}`
	}
	retry2 := `{"EventType":"onMessageAdded","Source":"SDK","ClientIdentity":"alice","ChatServiceSid":"IS1","ConversationSid":"CH1","MessageSid":"IM1","Author":"alice","DateCreated":"2026-10-31T23:59:59.000Z","RetryCount":"2"}`
	tokenA := `{"_idempotency_token":"tok-1","EventType":"onUserUpdated","Source":"API","UserSid":"US9","Identity":"dan","DateUpdated":"2026-10-01T00:00:00Z","_received_at":"2026-10-01T00:00:01Z"}`
	tokenB := `{"_idempotency_token":"tok-1","EventType":"onUserUpdated","Source":"API","UserSid":"US9","Identity":"dan","DateUpdated":"2026-10-01T00:00:00Z","_received_at":"2026-10-01T00:05:00Z"}`
	input := strings.Join([]string{
		webhookMsg, webhookRetry, retry2, // one message and two retries
		update("2026-10-01T00:00:00Z", "0"), update("2026-10-05T00:00:00Z", "0"), // two real updates
		cloudEvent, cloudEvent, // Event Streams redelivery: same id
		tokenA, tokenB, // same idempotency token, received twice
	}, "\n")
	res := load(t, s, input)
	if res.Loaded != 5 || res.Duplicates != 4 {
		t.Fatalf("loaded %d duplicates %d, want 5 and 4", res.Loaded, res.Duplicates)
	}
	again := load(t, s, input)
	if again.Loaded != 0 || again.Duplicates != 9 {
		t.Fatalf("second load: loaded %d duplicates %d, want 0 and 9", again.Loaded, again.Duplicates)
	}
	if n := count(t, s, `SELECT count(*) FROM events`); n != 5 {
		t.Fatalf("%d events stored, want 5", n)
	}
}

func TestLoadEventsRejectsBadLinesAndKeepsGoodOnes(t *testing.T) {
	s := openTestStore(t)
	input := strings.Join([]string{
		webhookMsg,
		`{"EventType":"onMessageAdded"`,
		``,
		`[1,2]`,
		`{"hello":"world"}`,
		`{"EventType":"onUserAdded","Source":"API","Identity":"x","DateCreated":"yesterday"}`,
		`{"EventType":"onConversationRemoved","Source":"API","ConversationSid":"CH9"}`,
		`{"specversion":"1.0","type":"com.twilio.conversations.message.added","data":{}}`,
		"{\"EventType\":\"onUserAdded\",\"Identity\":\"\xff\"}",
		`{"specversion":"1.0","type":"com.twilio.messaging.message.sent","id":"EV7","time":"2026-10-01T00:00:00Z","data":{}}`,
		cloudEvent,
	}, "\n")
	res := load(t, s, input)
	want := map[int64]string{
		2: "not valid JSON",
		4: "not a JSON object (found array)",
		5: "neither a Conversations webhook (no EventType) nor a CloudEvent (no specversion)",
		6: "DateCreated is not a timestamp: yesterday",
		7: "no activity time: needs a CloudEvent time, _received_at, or DateCreated (added) / DateUpdated (updated, removed)",
		8: "CloudEvent without id",
		9: "not valid UTF-8",
	}
	if len(res.Rejected) != len(want) {
		t.Fatalf("rejected %v, want %d", res.Rejected, len(want))
	}
	for _, r := range res.Rejected {
		if want[r.Line] != r.Reason {
			t.Errorf("line %d rejected for %q, want %q", r.Line, r.Reason, want[r.Line])
		}
	}
	if res.Loaded != 2 || res.Ignored != 1 {
		t.Errorf("loaded %d ignored %d, want 2 and 1", res.Loaded, res.Ignored)
	}
}

func TestLoadEventsReadsJSONArrays(t *testing.T) {
	s := openTestStore(t)
	input := "[\n  " + webhookMsg + ",\n  " + cloudEvent + ",\n  {\"nope\":1}\n]\n"
	res := load(t, s, input)
	if res.Loaded != 2 || len(res.Rejected) != 1 || res.Rejected[0].Line != 4 {
		t.Fatalf("loaded %d rejected %v", res.Loaded, res.Rejected)
	}
	broken := "[\n" + webhookMsg + ",\n{broken\n]"
	s2 := openTestStore(t)
	res = load(t, s2, broken)
	if res.Loaded != 1 || len(res.Rejected) != 1 || res.Rejected[0].Line != 2 {
		t.Fatalf("broken array: loaded %d rejected %v", res.Loaded, res.Rejected)
	}
}

func TestLoadEventsRejectsOverlongLinesAndGoesOn(t *testing.T) {
	s := openTestStore(t)
	huge := `{"EventType":"onMessageAdded","Body":"` + strings.Repeat("x", MaxLineBytes+(3<<20)) + `"}`
	res := load(t, s, webhookMsg+"\n"+huge+"\n"+cloudEvent+"\n")
	if res.Loaded != 2 || len(res.Rejected) != 1 || res.Rejected[0].Line != 2 ||
		res.Rejected[0].Reason != "line longer than 16 MiB" {
		t.Fatalf("loaded %d, rejected %v", res.Loaded, res.Rejected)
	}
}

// TestLoadPutsTheMemoryLimitBack: a load bounds DuckDB's (global) memory
// limit while it streams, and must not leave analysis, which runs after it
// in the same process, with that bound: a twelve-month report of ten
// million events needs more.
func TestLoadPutsTheMemoryLimitBack(t *testing.T) {
	s := openTestStore(t)
	limitGiB := func() float64 {
		var l string
		if err := s.DB.QueryRow(`SELECT current_setting('memory_limit')`).Scan(&l); err != nil {
			t.Fatal(err)
		}
		var n float64
		var unit string
		if _, err := fmt.Sscanf(l, "%g %s", &n, &unit); err != nil {
			t.Fatalf("memory_limit %q: %v", l, err)
		}
		switch unit {
		case "MiB":
			n /= 1024
		case "TiB":
			n *= 1024
		}
		return n
	}
	if _, err := s.DB.Exec(`SET memory_limit = '3GB'`); err != nil {
		t.Fatal(err)
	}
	before := limitGiB()
	load(t, s, webhookMsg)
	// The setting reads back rounded to 0.1 GiB.
	if after := limitGiB(); after < before-0.11 || after > before {
		t.Errorf("after a load the memory limit is %.1f GiB, want %.1f GiB as before", after, before)
	}
}

func TestLoadEventsInManyBatches(t *testing.T) {
	// Batches of four lines, stored in two parts of two.
	defer func(part, batch int) { partLines, batchLines = part, batch }(partLines, batchLines)
	partLines, batchLines = 2, 4
	// Slow commits: the next batch's dedupe must wait for them, or a
	// retry in a later batch would be stored again.
	testHookBeforeCommit = func() { time.Sleep(20 * time.Millisecond) }
	defer func() { testHookBeforeCommit = nil }()
	s := openTestStore(t)
	settings := func() string {
		var v string
		if err := s.DB.QueryRow(`SELECT current_setting('threads') || ' ' || current_setting('preserve_insertion_order')`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := settings()
	var lines []string
	for i := range 10 {
		lines = append(lines, fmt.Sprintf(`{"EventType":"onMessageAdded","Source":"SDK","ClientIdentity":"u%d","MessageSid":"IM%d","DateCreated":"2026-10-01T00:00:00Z","RetryCount":"0"}`, i, i))
	}
	// A retry of line 1 in the second batch, line 2 again in the last.
	lines = append(lines[:7], append([]string{strings.Replace(lines[0], `"RetryCount":"0"`, `"RetryCount":"1"`, 1)}, lines[7:]...)...)
	lines = append(lines, lines[1], "not json")
	res := load(t, s, strings.Join(lines, "\n"))
	if res.Events != 13 || res.Loaded != 10 || res.Duplicates != 2 || len(res.Rejected) != 1 || res.Rejected[0].Line != 13 {
		t.Fatalf("%+v", res)
	}
	if n := count(t, s, `SELECT count(DISTINCT input_line) FROM events`); n != 10 {
		t.Errorf("%d distinct input lines stored, want 10", n)
	}
	// Nothing staged stays behind on the pooled connections.
	if n := count(t, s, `SELECT count(*) FROM duckdb_tables() WHERE temporary`); n != 0 {
		t.Errorf("%d temporary tables left", n)
	}
	if n := count(t, s, `SELECT count(*) FROM duckdb_databases() WHERE database_name = '`+stageDB+`'`); n != 0 {
		t.Errorf("the stage database is still attached")
	}
	// The settings the parts are stored under are the instance's again.
	if after := settings(); after != before {
		t.Errorf("after a load threads and preserve_insertion_order are %s, want %s", after, before)
	}
}
