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
	raw      string
	cloud    bool
	id       string         // CloudEvent id
	envelope map[string]any // the whole CloudEvent
	fields   map[string]any // the webhook, or the CloudEvent's data
	typ      string         // EventType, or the CloudEvent type
	at       time.Time      // activity time, as the loader takes it
	service  string         // a webhook's ChatServiceSid
	token    string         // a webhook's _idempotency_token
	retry    bool           // a webhook with RetryCount "1"
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
			e.cloud, e.envelope = true, m
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
		e.token, _ = e.fields["_idempotency_token"].(string)
		e.retry = e.fields["RetryCount"] == "1"
		// The CloudEvent time; a webhook's _received_at, which serve
		// writes and every demo webhook carries.
		date := "time"
		if !e.cloud {
			date = "_received_at"
		}
		s, _ := m[date].(string)
		at, err := time.Parse("2006-01-02T15:04:05.000Z", s)
		if err != nil {
			t.Fatalf("line %d: %s %q: %v", n, date, s, err)
		}
		e.at = at
		events = append(events, e)
	}
	return events
}

func (e event) messageAdded() bool {
	return e.typ == "onMessageAdded" || e.typ == "com.twilio.conversations.message.added"
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
	originals := map[string]int{} // _idempotency_token -> index of the line with RetryCount "0"
	ids := map[string]bool{}      // CloudEvent ids
	var retries int64
	for i, e := range events {
		// A retry is received up to five minutes after its original,
		// possibly after the last month; the loader keeps the original.
		if e.at.Before(cfg.Start) || !e.at.Before(end) && !e.retry {
			t.Errorf("event at %s outside the months generated: %s", e.at, e.raw)
		}
		for k, v := range e.fields {
			if s, _ := v.(string); strings.HasSuffix(k, "Sid") && v != nil && !sidPattern.MatchString(s) {
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
		checkWebhookEnvelope(t, e)
		switch e.fields["RetryCount"] {
		case "0":
			if j, ok := originals[e.token]; ok {
				t.Errorf("idempotency token %s of two events:\n%s\n%s", e.token, events[j].raw, e.raw)
			}
			originals[e.token] = i
		case "1":
			retries++
			j, ok := originals[e.token]
			if !ok || j >= i {
				t.Errorf("retry without an earlier original of its token: %s", e.raw)
				continue
			}
			// The same post again, but for RetryCount and _received_at.
			o := events[j]
			if got, want := withoutEnvelope(e.raw), strings.Replace(withoutEnvelope(o.raw), `"RetryCount":"0"`, `"RetryCount":"1"`, 1); got != want {
				t.Errorf("retry differs from its original beyond RetryCount:\n%s\n%s", o.raw, e.raw)
			}
			if gap := e.at.Sub(o.at); gap < 5*time.Second || gap > 5*time.Minute {
				t.Errorf("retry received %s after its original, want 10 s to 5 min later:\n%s\n%s", gap, o.raw, e.raw)
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

// envelopePattern is how a webhook line ends: RetryCount, then the envelope
// serve appends, _received_at and _idempotency_token.
var envelopePattern = regexp.MustCompile(`,"RetryCount":"[01]","_received_at":"[^"]+","_idempotency_token":"[0-9a-f]{32}"}$`)

func withoutEnvelope(raw string) string {
	i := strings.LastIndex(raw, `,"_received_at":`)
	if i < 0 {
		return raw
	}
	return raw[:i] + "}"
}

// checkWebhookEnvelope checks that a webhook ends with the envelope serve
// writes and, where the payload says when the event happened (DateCreated
// of an added resource), that it was received 100 to 500 ms later, in the
// same month.
func checkWebhookEnvelope(t *testing.T, e event) {
	t.Helper()
	if !envelopePattern.MatchString(e.raw) {
		t.Errorf("webhook without the envelope (_received_at, _idempotency_token) at its end: %s", e.raw)
		return
	}
	created, _ := e.fields["DateCreated"].(string)
	if e.retry || !strings.HasSuffix(e.typ, "Added") {
		return
	}
	at := mustTime(t, created)
	delay := e.at.Sub(at)
	if delay < 0 || delay >= 500*time.Millisecond || e.at.Month() != at.Month() ||
		delay < 100*time.Millisecond && e.at.Add(time.Millisecond).Day() != 1 { // shorter only at the end of a month
		t.Errorf("webhook of an event at %s received at %s: %s", created, e.at.Format(time.RFC3339Nano), e.raw)
	}
}

// Every trap the billing rules must handle is in the stream.
func TestAccountHasTheTraps(t *testing.T) {
	cfg := small()
	out, _ := generate(t, cfg)
	events := parse(t, out)

	guestMonths := map[string]map[string]bool{}
	identities := map[string]bool{}
	// Conversations with outbound (agent) messages, and those with anything
	// else: a message by anyone else or a participant event.
	outbound, other := map[string]bool{}, map[string]bool{}
	count := map[string]int{}
	for _, e := range events {
		if e.retry { // the loader keeps the original
			continue
		}
		f := e.fields
		conv, _ := f["ConversationSid"].(string)
		if e.cloud {
			count["CloudEvents (none names its service)"]++
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
		switch {
		case f["IsOnline"] == "true" || f["IsOnline"] == true && f["Attributes"] == nil:
			count["users coming online"]++
		case e.cloud && e.typ == "com.twilio.conversations.user.updated":
			count["REST user updates carrying IsOnline"]++
		}
		switch author, _ := f["Author"].(string); {
		case !e.messageAdded():
			if f["ParticipantSid"] != nil {
				other[conv] = true
			}
		case author == "system":
			count["messages by system"]++
		case slices.Contains(ghostAuthorNames, author):
			count["messages by nobody"]++
		case strings.HasPrefix(author, "agent-") && f["ParticipantSid"] == nil:
			outbound[conv] = true // through REST, by an agent who is not a participant
		default:
			other[conv] = true
		}
		if e.messageAdded() && f["ParticipantSid"] != nil {
			count["messages whose author is a participant"]++
		}
		switch at := e.at; {
		case at.Day() == 1 && at.Hour() == 0 && at.Minute() == 0 && at.Second() == 0:
			count["events in a month's first second"]++
		case at.AddDate(0, 0, 1).Day() == 1 && at.Hour() == 23 && at.Minute() == 59 && at.Second() == 59:
			count["events in a month's last second"]++
		}
	}
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
		"CloudEvents (none names its service)", "REST user updates carrying IsOnline",
		"messages whose author is a participant", "guests", "identities differing only by case",
		"receive-only conversations",
	} {
		if count[name] == 0 {
			t.Errorf("no %s", name)
		}
	}
}

// cloudEventSchema is the dataschema Twilio gives a CloudEvent type:
// com.twilio.conversations.participant.removed ->
// https://events-schemas.twilio.com/Conversations.ParticipantRemoved/2.
func cloudEventSchema(typ string) string {
	rest, ok := strings.CutPrefix(typ, "com.twilio.conversations.")
	if !ok {
		return ""
	}
	name := ""
	for _, part := range strings.FieldsFunc(rest, func(r rune) bool { return r == '.' || r == '-' }) {
		name += strings.ToUpper(part[:1]) + part[1:]
	}
	return "https://events-schemas.twilio.com/Conversations." + name + "/2"
}

// Every CloudEvent has the shape Event Streams gives it, field for field
// (../shared/twilio-events/README.md): nothing in it names the service, the
// Source or the SDK client. Messages say whether their author is a
// participant, in webhooks too; every user.updated says IsOnline, and only a
// REST write moves a user's DateUpdated.
func TestCloudEventsHaveTwiliosShape(t *testing.T) {
	cfg := small()
	out, st := generate(t, cfg)
	events := parse(t, out)
	services := map[string]bool{}
	for _, e := range events {
		if e.service != "" {
			services[e.service] = true
		}
	}
	if es := cfg.EventStreamsService(); es == "" || services[es] || len(services) != cfg.Services-1 {
		t.Errorf("Event Streams service %q; webhooks name %d services: %v", es, len(services), services)
	}
	sourcePattern := regexp.MustCompile(`^AB[0-9a-f]{32}$`)
	envelopeKeys := []string{"specversion", "type", "source", "id", "dataschema", "datacontenttype", "time", "data"}
	sources := map[string]bool{}
	participants := map[[2]string]string{} // conversation, identity or address -> ParticipantSid (CloudEvents)
	authors := map[[2]string]string{}      // conversation, author -> ParticipantSid of its messages (CloudEvents)
	lastWrite := map[string]string{}       // UserSid -> DateUpdated of its last REST write, or DateCreated
	count := map[string]int{}
	var cloud int64
	for _, e := range events {
		f := e.fields
		if e.retry { // a webhook again: checked as its original
			continue
		}
		checkUserDates(t, e, lastWrite, count)
		if !e.cloud {
			if e.messageAdded() && f["Author"] != "system" && (f["Source"] == "SDK" || f["Source"] == "SMS" || f["Source"] == "WHATSAPP") {
				if p, _ := f["ParticipantSid"].(string); !sidPattern.MatchString(p) {
					t.Errorf("webhook of a message by a participant without ParticipantSid: %s", e.raw)
				}
				count["webhook messages by participants"]++
			}
			if f["Author"] == "system" && f["ParticipantSid"] != nil {
				t.Errorf("webhook of a system message with a ParticipantSid: %s", e.raw)
			}
			continue
		}
		cloud++
		env := e.envelope
		if len(env) != len(envelopeKeys) {
			t.Errorf("CloudEvent envelope has %d keys, want %v: %s", len(env), envelopeKeys, e.raw)
		}
		for _, k := range envelopeKeys {
			if _, ok := env[k]; !ok {
				t.Errorf("CloudEvent envelope without %s: %s", k, e.raw)
			}
		}
		src, _ := env["source"].(string)
		sources[src] = true
		switch {
		case env["specversion"] != "1.0" || env["datacontenttype"] != "application/json":
			t.Errorf("specversion %v, datacontenttype %v: %s", env["specversion"], env["datacontenttype"], e.raw)
		case !sourcePattern.MatchString(src):
			t.Errorf("source %q is not an opaque AB SID: %s", src, e.raw)
		case env["dataschema"] != cloudEventSchema(e.typ) || cloudEventSchema(e.typ) == "":
			t.Errorf("type %s with dataschema %v: %s", e.typ, env["dataschema"], e.raw)
		}
		for _, k := range []string{"ChatServiceSid", "ServiceSid", "Source", "ClientIdentity", "Body", "EventType", "RetryCount"} {
			if _, ok := f[k]; ok {
				t.Errorf("CloudEvent data has %s: %s", k, e.raw)
			}
		}
		if f["AccountSid"] == nil {
			t.Errorf("CloudEvent data without AccountSid: %s", e.raw)
		}
		checkNoServiceNoBoolString(t, f, services, e.raw)

		conv, _ := f["ConversationSid"].(string)
		switch e.typ {
		case "com.twilio.conversations.participant.added", "com.twilio.conversations.participant.updated",
			"com.twilio.conversations.participant.removed":
			who, _ := f["Identity"].(string)
			if b, ok := f["MessagingBinding"].(map[string]any); ok {
				if f["Identity"] != nil {
					t.Errorf("channel participant with an Identity: %s", e.raw)
				}
				who, _ = b["Address"].(string)
			}
			participants[[2]string{conv, who}], _ = f["ParticipantSid"].(string)
		case "com.twilio.conversations.message.added", "com.twilio.conversations.message.updated":
			checkMessage(t, e, participants, authors, count)
		case "com.twilio.conversations.user.updated":
			for _, k := range []string{"IsOnline", "IsNotifiable"} {
				if _, ok := f[k].(bool); !ok {
					t.Errorf("user.updated %s is %T %v, want a JSON boolean: %s", k, f[k], f[k], e.raw)
				}
			}
		}
	}
	if cloud != st.CloudEvents || cloud == 0 {
		t.Errorf("%d CloudEvents checked, stats say %d", cloud, st.CloudEvents)
	}
	if len(sources) != 1 {
		t.Errorf("CloudEvent sources %v, want the account's one sink", sources)
	}
	for _, name := range []string{
		"messages by participants", "messages by addresses", "messages by non-participants", "messages by system",
		"webhook messages by participants", "users coming online", "REST user writes",
	} {
		if count[name] == 0 {
			t.Errorf("no %s", name)
		}
	}
	t.Logf("%v", count)
}

// checkMessage checks a message.added or .updated CloudEvent: Index a
// number, MessageBody, and a ParticipantSid that is null for "system" and
// for nobody, set for an address writing in, and the same for one author
// of one conversation as its participant events say.
func checkMessage(t *testing.T, e event, participants, authors map[[2]string]string, count map[string]int) {
	t.Helper()
	f := e.fields
	if i, ok := f["Index"].(float64); !ok || i != float64(int(i)) || i < 0 {
		t.Errorf("message Index %T %v, want a JSON number: %s", f["Index"], f["Index"], e.raw)
	}
	if _, ok := f["MessageBody"].(string); !ok {
		t.Errorf("message without MessageBody: %s", e.raw)
	}
	v, ok := f["ParticipantSid"]
	if !ok {
		t.Errorf("message without ParticipantSid (null when the author is not a participant): %s", e.raw)
	}
	part, _ := v.(string)
	if v != nil && !sidPattern.MatchString(part) {
		t.Errorf("message ParticipantSid %v: %s", v, e.raw)
	}
	author, _ := f["Author"].(string)
	conv, _ := f["ConversationSid"].(string)
	switch {
	case author == "system" || slices.Contains(ghostAuthorNames, author):
		if v != nil {
			t.Errorf("message by %s, who is no participant, with ParticipantSid %v: %s", author, v, e.raw)
		}
		if author == "system" {
			count["messages by system"]++
		}
	case strings.HasPrefix(author, "+") || strings.HasPrefix(author, "whatsapp:"):
		if v == nil {
			t.Errorf("message by the address %s, a participant, without ParticipantSid: %s", author, e.raw)
		}
		count["messages by addresses"]++
	case v == nil:
		count["messages by non-participants"]++
	default:
		count["messages by participants"]++
	}
	if v == nil {
		return
	}
	key := [2]string{conv, author}
	if p, ok := participants[key]; ok && p != part {
		t.Errorf("message by %s as participant %s, who was added as %s: %s", author, part, p, e.raw)
	}
	if p, ok := authors[key]; ok && p != part {
		t.Errorf("messages by %s in %s as participants %s and %s", author, conv, p, part)
	}
	authors[key] = part
}

// checkNoServiceNoBoolString fails when a data value, nested ones included,
// is a service SID or a boolean written as a string.
func checkNoServiceNoBoolString(t *testing.T, v any, services map[string]bool, raw string) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for _, x := range v {
			checkNoServiceNoBoolString(t, x, services, raw)
		}
	case string:
		if services[v] || strings.HasPrefix(v, "IS") && sidPattern.MatchString(v) || v == "true" || v == "false" {
			t.Errorf("CloudEvent data value %q: %s", v, raw)
		}
	}
}

// checkUserDates checks, in both formats, that a user's DateUpdated moves
// on REST writes only: a write carries its own time (the event's, in a
// CloudEvent), coming online the DateUpdated of the last write, or, for a
// user never written since it was created (all of them before the first
// month, in the demo), its DateCreated.
func checkUserDates(t *testing.T, e event, lastWrite map[string]string, count map[string]int) {
	t.Helper()
	f := e.fields
	sid, _ := f["UserSid"].(string)
	created, _ := f["DateCreated"].(string)
	updated, _ := f["DateUpdated"].(string)
	switch e.typ {
	case "onUserAdded", "com.twilio.conversations.user.added":
		lastWrite[sid] = created
	case "onUserUpdated", "com.twilio.conversations.user.updated":
		comingOnline := f["IsOnline"] == "true" || f["IsOnline"] == true && f["Attributes"] == nil
		if !comingOnline {
			if e.cloud && updated != e.envelope["time"] {
				t.Errorf("REST write with DateUpdated %s, not its time: %s", updated, e.raw)
			}
			lastWrite[sid] = updated
			count["REST user writes"]++
			return
		}
		want, ok := lastWrite[sid]
		if !ok {
			want = created
		}
		if updated != want {
			t.Errorf("user coming online with DateUpdated %s, want its last write's %s: %s", updated, want, e.raw)
		}
		if !e.at.After(mustTime(t, updated)) {
			t.Errorf("user coming online at %s, not after its DateUpdated: %s", e.at, e.raw)
		}
		count["users coming online"]++
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse("2006-01-02T15:04:05.000Z", s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func TestEventStreamsService(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7} {
		cfg := small()
		cfg.Services = n
		g := newGenerator(io.Discard, cfg)
		want := ""
		if last := g.services[n-1]; last.eventStreams {
			want = last.sid
		}
		if got := cfg.EventStreamsService(); got != want {
			t.Errorf("%d services: EventStreamsService() = %q, want %q", n, got, want)
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
