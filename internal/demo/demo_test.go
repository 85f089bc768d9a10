package demo

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// small is an account of every kind of subject, quick to generate.
func small() Config {
	return Config{
		Seed:              7,
		Start:             time.Date(2026, time.October, 1, 0, 0, 0, 0, time.UTC),
		Months:            3,
		Services:          3,
		StableUsers:       400,
		GuestsPerMonth:    300,
		SMSAddresses:      150,
		WhatsAppAddresses: 80,
		BackOfficeUsers:   60,
	}
}

func generate(t testing.TB, cfg Config) ([]byte, Stats) {
	t.Helper()
	var buf bytes.Buffer
	st, err := Generate(&buf, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), st
}

func TestSameSeedSameBytes(t *testing.T) {
	a, _ := generate(t, small())
	b, _ := generate(t, small())
	if sha256.Sum256(a) != sha256.Sum256(b) {
		t.Fatal("two runs of one config differ")
	}
	other := small()
	other.Seed++
	c, _ := generate(t, other)
	if sha256.Sum256(a) == sha256.Sum256(c) {
		t.Fatal("a different seed gave the same output")
	}
}

// event is one parsed line, with what the checks below need.
type event struct {
	raw     string
	cloud   bool
	id      string         // CloudEvent id
	fields  map[string]any // the webhook, or the CloudEvent's data
	typ     string         // EventType, or the CloudEvent type
	at      time.Time      // activity time, as the loader takes it
	service string
}

func parse(t *testing.T, out []byte) []event {
	t.Helper()
	var events []event
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", n, err, line)
		}
		e := event{raw: line, fields: m}
		if _, ok := m["specversion"]; ok {
			e.cloud = true
			e.typ, _ = m["type"].(string)
			e.id, _ = m["id"].(string)
			e.fields, _ = m["data"].(map[string]any)
			if e.fields == nil {
				t.Fatalf("line %d: CloudEvent without data object: %s", n, line)
			}
		} else if typ, ok := m["EventType"].(string); ok {
			e.typ = typ
		} else {
			t.Fatalf("line %d has neither EventType nor specversion: %s", n, line)
		}
		e.service, _ = e.fields["ChatServiceSid"].(string)
		date := "DateCreated"
		if !strings.HasSuffix(e.typ, "Added") && !strings.HasSuffix(e.typ, ".added") {
			date = "DateUpdated"
		}
		s, _ := e.fields[date].(string)
		at, err := time.Parse("2006-01-02T15:04:05.000Z", s)
		if err != nil {
			t.Fatalf("line %d: %s %q: %v", n, date, s, err)
		}
		e.at = at
		events = append(events, e)
	}
	return events
}

var sidPattern = regexp.MustCompile(`^[A-Z]{2}[0-9a-f]{32}$`)

func TestLinesAreWhatTheLoaderReads(t *testing.T) {
	cfg := small()
	out, st := generate(t, cfg)
	events := parse(t, out)
	if int64(len(events)) != st.Lines || st.Lines != st.Webhooks+st.CloudEvents {
		t.Fatalf("%d lines parsed, stats %+v", len(events), st)
	}
	end := cfg.Start.AddDate(0, cfg.Months, 0)
	seen := map[string]int{} // line (RetryCount "0") -> index
	ids := map[string]bool{} // CloudEvent ids
	var retries int64
	for i, e := range events {
		if e.at.Before(cfg.Start) || !e.at.Before(end) {
			t.Errorf("event at %s outside the months generated: %s", e.at, e.raw)
		}
		for k, v := range e.fields {
			if s, _ := v.(string); strings.HasSuffix(k, "Sid") && !sidPattern.MatchString(s) {
				t.Errorf("%s %q is not a SID", k, v)
			}
		}
		if e.cloud {
			if ids[e.id] || !sidPattern.MatchString(e.id) {
				t.Errorf("CloudEvent id %q is repeated or not a SID", e.id)
			}
			ids[e.id] = true
			continue
		}
		for k, v := range e.fields {
			if _, ok := v.(string); !ok {
				t.Fatalf("webhook field %s is %T, want a string: %s", k, v, e.raw)
			}
		}
		switch e.fields["RetryCount"] {
		case "0":
			seen[e.raw] = i
		case "1":
			retries++
			orig := strings.Replace(e.raw, `"RetryCount":"1"`, `"RetryCount":"0"`, 1)
			if j, ok := seen[orig]; !ok || j >= i {
				t.Errorf("retry without an earlier original: %s", e.raw)
			}
		default:
			t.Fatalf("RetryCount %v: %s", e.fields["RetryCount"], e.raw)
		}
	}
	if retries != st.Retries || retries == 0 {
		t.Errorf("%d retries, stats say %d", retries, st.Retries)
	}
	if share := float64(st.Retries) / float64(st.Webhooks-st.Retries); share < 0.01 || share > 0.03 {
		t.Errorf("retries are %.1f%% of webhooks, want about 2%%", 100*share)
	}
	if share := float64(st.CloudEvents) / float64(st.Lines); share < 0.1 || share > 0.3 {
		t.Errorf("CloudEvents are %.0f%% of lines, want about 20%%", 100*share)
	}
}

// Every trap the billing rules must handle is in the stream.
func TestAccountHasTheTraps(t *testing.T) {
	cfg := small()
	out, _ := generate(t, cfg)
	events := parse(t, out)

	named := map[string]bool{} // conversations an event names with their service
	var unnamed []string       // conversations of CloudEvents without ChatServiceSid
	guestMonths := map[string]map[string]bool{}
	identities := map[string]bool{}
	// Conversations with outbound (agent) messages, and those with anything
	// else: a message by anyone else or a participant event.
	outbound, other := map[string]bool{}, map[string]bool{}
	count := map[string]int{}
	for _, e := range events {
		f := e.fields
		conv, _ := f["ConversationSid"].(string)
		if e.service != "" && conv != "" {
			named[conv] = true
		}
		if e.cloud && e.service == "" {
			if conv == "" {
				t.Errorf("CloudEvent with neither service nor conversation: %s", e.raw)
			}
			unnamed = append(unnamed, conv)
		}
		if id, _ := f["Identity"].(string); id != "" {
			identities[id] = true
			if strings.HasPrefix(id, "guest-") {
				if guestMonths[id] == nil {
					guestMonths[id] = map[string]bool{}
				}
				guestMonths[id][e.at.Format("2006-01")] = true
			}
		}
		if f["IsOnline"] == "true" {
			count["users coming online"]++
		}
		switch author, _ := f["Author"].(string); {
		case e.typ != "onMessageAdded" && e.typ != "com.twilio.conversations.message.added":
			if f["ParticipantSid"] != nil {
				other[conv] = true
			}
		case author == "system":
			count["messages by system"]++
		case slices.Contains(ghostAuthorNames, author):
			count["messages by nobody"]++
		case strings.HasPrefix(author, "agent-") && f["Source"] == "API":
			outbound[conv] = true
		default:
			other[conv] = true
		}
		switch at := e.at; {
		case at.Day() == 1 && at.Hour() == 0 && at.Minute() == 0 && at.Second() == 0:
			count["events in a month's first second"]++
		case at.AddDate(0, 0, 1).Day() == 1 && at.Hour() == 23 && at.Minute() == 59 && at.Second() == 59:
			count["events in a month's last second"]++
		}
	}
	for _, conv := range unnamed {
		if !named[conv] {
			t.Errorf("conversation %s: a CloudEvent leaves out its service and no event names it", conv)
		}
	}
	count["CloudEvents without ChatServiceSid"] = len(unnamed)
	for id, months := range guestMonths {
		if len(months) != 1 {
			t.Errorf("guest %s appears in months %v", id, months)
		}
	}
	count["guests"] = len(guestMonths)
	lower := map[string]int{}
	for id := range identities {
		if lower[strings.ToLower(id)]++; lower[strings.ToLower(id)] == 2 {
			count["identities differing only by case"]++
		}
	}
	// Receive-only addresses were added before the first month: their
	// conversations carry outbound messages and nothing else.
	for conv := range outbound {
		if !other[conv] {
			count["receive-only conversations"]++
		}
	}
	for _, name := range []string{
		"users coming online", "messages by system", "messages by nobody",
		"events in a month's first second", "events in a month's last second",
		"CloudEvents without ChatServiceSid", "guests", "identities differing only by case",
		"receive-only conversations",
	} {
		if count[name] == 0 {
			t.Errorf("no %s", name)
		}
	}
}

func TestBenchConfigScales(t *testing.T) {
	cfg := BenchConfig(200_000)
	if cfg.Months != 12 {
		t.Errorf("Months = %d, want 12", cfg.Months)
	}
	st, err := Generate(io.Discard, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st.Lines < 180_000 || st.Lines > 220_000 {
		t.Errorf("BenchConfig(200_000) gave %d lines", st.Lines)
	}
}

func TestDefaultConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("generates the whole demo account")
	}
	cfg := DefaultConfig()
	start := time.Now()
	st, err := Generate(io.Discard, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("DefaultConfig: %d lines (%d webhooks, of which %d retries; %d CloudEvents) in %s",
		st.Lines, st.Webhooks, st.Retries, st.CloudEvents, time.Since(start).Round(time.Millisecond))
	if st.Lines < 300_000 || st.Lines > 2_000_000 {
		t.Errorf("the demo account has %d lines, want a few hundred thousand to two million", st.Lines)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, edit := range map[string]func(*Config){
		"mid-month start":  func(c *Config) { c.Start = c.Start.AddDate(0, 0, 2) },
		"no months":        func(c *Config) { c.Months = 0 },
		"no services":      func(c *Config) { c.Services = 0 },
		"negative guests":  func(c *Config) { c.GuestsPerMonth = -1 },
		"too many numbers": func(c *Config) { c.SMSAddresses = maxSMS + 1 },
	} {
		cfg := small()
		edit(&cfg)
		if _, err := Generate(io.Discard, cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestAppendTimestamp(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []int64{0, 951782400000 - 1, 951782400000, 4107542399999, 1793491199999, 1793491200000}
	for range 10000 {
		cases = append(cases, r.Int64N(253402300799999))
	}
	for _, ms := range cases {
		want := time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
		if got := string(appendTimestamp(nil, ms)); got != want {
			t.Fatalf("appendTimestamp(%d) = %s, want %s", ms, got, want)
		}
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "nl\n\r\t", "\x00\x07\x0b\x1f", "émoji 👋"} {
		var got string
		if err := json.Unmarshal(appendString(nil, s), &got); err != nil || got != s {
			t.Errorf("appendString(%q) = %s (%v)", s, appendString(nil, s), err)
		}
	}
}

// BenchmarkGenerate writes to a bufio.Writer, as `mauledger demo` does.
// Target: at least 1.5 million lines/s on one core, at the ten-million-line
// scale of the load benchmark too (a larger population misses the CPU cache
// more often).
func BenchmarkGenerate(b *testing.B) {
	for _, events := range []int{1_000_000, 10_000_000} {
		b.Run(fmt.Sprintf("lines=%d", events), func(b *testing.B) {
			cfg := BenchConfig(events)
			cw := &countingWriter{w: io.Discard}
			w := bufio.NewWriterSize(cw, 64<<10)
			var lines int64
			for b.Loop() {
				st, err := Generate(w, cfg)
				if err != nil {
					b.Fatal(err)
				}
				if err := w.Flush(); err != nil {
					b.Fatal(err)
				}
				lines += st.Lines
			}
			b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
			b.ReportMetric(float64(cw.n)/float64(lines), "bytes/line")
			b.ReportMetric(float64(lines)/float64(b.N), "lines/op")
		})
	}
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.w.Write(p)
}
