package analysis_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mauledger/mauledger/analysis"
	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/ingest/capture"
	"github.com/mauledger/mauledger/ingest/spool"
	"github.com/mauledger/mauledger/internal/twiliofake"
)

// The conformance corpus (testdata/twilio, see its README): payloads shaped
// as Twilio sends them, each case with the activity_ledger rows it must
// produce. The test replays every case the way it really arrives: signed
// HTTP posts to the capture handler, the spool, `ingest events --spool`'s
// loader, then the ledger's refresh.

const corpusDir = "../testdata/twilio"

// The account every case runs against, pulled through the fake Twilio API
// before the case's events arrive. Two services, so that no event is ever
// attributed by the one-service fallback: an Event Streams event gets its
// service from its conversation or its user.
const (
	corpusAccountSID = "ACe268443e43d93dab7ebef303bbe9642f"
	corpusServiceA   = "IS7fdd65ec9bf61532d56eb7b5f6667d40"
	corpusServiceB   = "ISd77ba1385457a0119281bb9886018b53"
	corpusConvA      = "CH65e1ef0aecbeb1a5d0379f2a647e75bc" // in service A
	corpusConvB      = "CHd497f0c3ff18bbf5053050653c838ac2" // in service B
	corpusUserAlice  = "US2746dc8792a943a5e8159d415580d96e" // alice, in service A
)

func corpusAccount() *twiliofake.Account {
	jan1 := at("2025-01-01T00:00:00Z")
	return &twiliofake.Account{
		SID: corpusAccountSID,
		Services: []*twiliofake.Service{
			{
				SID: corpusServiceA, FriendlyName: "Support", DateCreated: jan1,
				Users: []twiliofake.User{{SID: corpusUserAlice, Identity: "alice", DateCreated: jan1, DateUpdated: jan1}},
				Conversations: []*twiliofake.Conversation{
					{SID: corpusConvA, FriendlyName: "Support #4812", State: twiliofake.Active, DateCreated: jan1, DateUpdated: jan1},
				},
			},
			{
				SID: corpusServiceB, FriendlyName: "Community", DateCreated: jan1,
				Conversations: []*twiliofake.Conversation{
					{SID: corpusConvB, FriendlyName: "General", State: twiliofake.Active, DateCreated: jan1, DateUpdated: jan1},
				},
			},
		},
	}
}

// The snapshot's own rows fall in 2025: only rows from here on are the
// cases' (the imported message is dated 2024 and must land here by its
// CloudEvent time).
var corpusFrom = at("2026-01-01T00:00:00Z")

const (
	corpusAuthToken = "f3a1c2b4d5e6f708192a3b4c5d6e7f80"
	corpusPublicURL = "https://hooks.example.com"
)

// corpusCase is one file of the corpus.
type corpusCase struct {
	Name         string          `json:"name"`
	Doc          string          `json:"doc"`
	Notes        string          `json:"notes"`
	Webhooks     []corpusWebhook `json:"webhooks"`
	EventStreams []corpusBatch   `json:"event_streams"`
	Ledger       []corpusRow     `json:"ledger"`
}

type corpusWebhook struct {
	Form       string `json:"form"` // the x-www-form-urlencoded body
	ReceivedAt string `json:"received_at"`
}

type corpusBatch struct {
	ReceivedAt string            `json:"received_at"`
	Batch      []json.RawMessage `json:"batch"` // CloudEvents, as the webhook sink posts them
}

type corpusRow struct {
	At            string `json:"at"`
	ServiceSID    string `json:"service_sid"`
	SubjectKind   string `json:"subject_kind"`
	Subject       string `json:"subject"`
	Rule          string `json:"rule"`
	Source        string `json:"source"`
	Origin        string `json:"origin"`
	Evidence      string `json:"evidence"`
	TimedBy       string `json:"timed_by"`
	UnknownAuthor bool   `json:"unknown_author"`
}

type corpusFile struct {
	path string
	c    corpusCase
}

func loadCorpus(t *testing.T) []corpusFile {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(corpusDir, "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no case files under %s", corpusDir)
	}
	var files []corpusFile
	names := map[string]string{}
	for _, p := range paths {
		c, err := readCorpusCase(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if other, ok := names[c.Name]; ok {
			t.Fatalf("%s and %s are both named %q", other, p, c.Name)
		}
		names[c.Name] = p
		files = append(files, corpusFile{path: p, c: c})
	}
	return files
}

func readCorpusCase(path string) (corpusCase, error) {
	var c corpusCase
	b, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, err
	}
	if dec.More() {
		return c, fmt.Errorf("more than one JSON value")
	}
	return c, nil
}

func TestTwilioConformanceCorpus(t *testing.T) {
	for _, f := range loadCorpus(t) {
		t.Run(f.c.Name, func(t *testing.T) {
			t.Parallel()
			if problems := checkCorpusCase(f.path, f.c); len(problems) > 0 {
				t.Fatalf("%s is not shaped like Twilio's payloads:\n  %s", f.path, strings.Join(problems, "\n  "))
			}
			ctx := context.Background()
			s, err := ingest.Open(ctx, filepath.Join(t.TempDir(), "conformance.duckdb"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			pullSnapshot(t, s, corpusAccount())

			spoolDir := filepath.Join(t.TempDir(), "spool")
			posted := replayCorpusCase(t, spoolDir, f.c)
			loads, err := s.LoadSpool(ctx, spoolDir)
			if err != nil {
				t.Fatal(err)
			}
			var stored int64
			for _, l := range loads {
				if len(l.Rejected) > 0 || l.Ignored > 0 || l.TornBytes > 0 {
					t.Fatalf("loading the spool: %+v", l)
				}
				stored += l.Loaded + l.Duplicates
			}
			if stored != int64(posted) {
				t.Fatalf("posted %d events, the spool loaded %d: %+v", posted, stored, loads)
			}
			if _, err := analysis.Refresh(ctx, s.DB); err != nil {
				t.Fatal(err)
			}

			got := readCorpusLedger(t, s)
			want := make([]string, 0, len(f.c.Ledger))
			for _, r := range f.c.Ledger {
				want = append(want, corpusRowText(r))
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s\nactivity_ledger from %s on:\n%s", f.c.Notes, corpusFrom.Format("2006-01-02"), ledgerDiff(got, want))
			}
		})
	}
}

// replayCorpusCase posts the case's payloads, in the order they arrived,
// to the capture handler as Twilio would, each stamped with its
// received_at, and returns how many events it posted.
func replayCorpusCase(t *testing.T, spoolDir string, c corpusCase) int {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w, err := spool.Open(spoolDir, spool.DefaultOptions, log)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var clock time.Time
	h := capture.Handler(capture.Config{Spool: w, AuthToken: corpusAuthToken, PublicURL: corpusPublicURL, Log: log,
		Now: func() time.Time { return clock }})

	type delivery struct {
		at          time.Time
		pathQuery   string
		contentType string
		body        string
		signature   string
		events      int
	}
	var ds []delivery
	for _, wh := range c.Webhooks {
		form, err := url.ParseQuery(wh.Form)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, delivery{at: at(wh.ReceivedAt), pathQuery: capture.ConversationsPath,
			contentType: "application/x-www-form-urlencoded", body: wh.Form,
			signature: twiliofake.Signature(corpusAuthToken, corpusPublicURL+capture.ConversationsPath, form), events: 1})
	}
	for _, b := range c.EventStreams {
		body, err := json.Marshal(b.Batch)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(body)
		pq := capture.EventsPath + "?bodySHA256=" + hex.EncodeToString(sum[:])
		ds = append(ds, delivery{at: at(b.ReceivedAt), pathQuery: pq, contentType: "application/json",
			body: string(body), signature: twiliofake.Signature(corpusAuthToken, corpusPublicURL+pq, nil), events: len(b.Batch)})
	}
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].at.Before(ds[j].at) })
	posted := 0
	for _, d := range ds {
		clock = d.at
		req := httptest.NewRequest(http.MethodPost, d.pathQuery, strings.NewReader(d.body))
		req.Header.Set("Content-Type", d.contentType)
		req.Header.Set("X-Twilio-Signature", d.signature)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("POST %s received at %s: %d %s", d.pathQuery, d.at.Format(time.RFC3339Nano), rec.Code, rec.Body)
		}
		posted += d.events
	}
	return posted
}

// readCorpusLedger reads the ledger rows from corpusFrom on, as text.
func readCorpusLedger(t *testing.T, s *ingest.Store) []string {
	t.Helper()
	rows, err := s.DB.Query(`SELECT occurred_at, month, service_sid, subject_kind, subject, rule, family, source, origin,
		evidence, timed_by, unknown_author, inferred FROM activity_ledger WHERE occurred_at >= ?`, corpusFrom)
	if err != nil {
		t.Fatalf("read activity_ledger: %v", err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var r corpusRow
		var occurred time.Time
		var month, family string
		var inferred bool
		if err := rows.Scan(&occurred, &month, &r.ServiceSID, &r.SubjectKind, &r.Subject, &r.Rule, &family, &r.Source,
			&r.Origin, &r.Evidence, &r.TimedBy, &r.UnknownAuthor, &inferred); err != nil {
			t.Fatal(err)
		}
		r.At = occurred.UTC().Format(time.RFC3339Nano)
		text := corpusRowText(r)
		// Derived columns: the month of the time, the family of the rule.
		if want := occurred.UTC().Format("2006-01"); month != want {
			text += " month=" + month
		}
		if want, _, _ := strings.Cut(r.Rule, "."); family != want {
			text += " family=" + family
		}
		if inferred {
			text += " inferred"
		}
		got = append(got, text)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	return got
}

// corpusRowText is one ledger row, comparable and readable.
func corpusRowText(r corpusRow) string {
	when := r.At
	if ts, err := time.Parse(time.RFC3339Nano, r.At); err == nil {
		when = ts.UTC().Format(time.RFC3339Nano)
	}
	service := r.ServiceSID
	if service == "" {
		service = "(service unknown)"
	}
	origin := r.Origin
	if origin == "" {
		origin = "-"
	}
	text := fmt.Sprintf("%s %s %s:%s %s source=%s origin=%s evidence=%s timed_by=%s",
		when, service, r.SubjectKind, r.Subject, r.Rule, r.Source, origin, r.Evidence, r.TimedBy)
	if r.UnknownAuthor {
		text += " unknown_author"
	}
	return text
}

// ledgerDiff lists the rows missing (-) and unexpected (+), then all the rows.
func ledgerDiff(got, want []string) string {
	var b strings.Builder
	for _, w := range want {
		if !slices.Contains(got, w) {
			b.WriteString("  - " + w + "\n")
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			b.WriteString("  + " + g + "\n")
		}
	}
	b.WriteString("(- expected, missing; + produced, not expected)\n got:\n")
	if len(got) == 0 {
		b.WriteString("    none\n")
	}
	for _, g := range got {
		b.WriteString("    " + g + "\n")
	}
	b.WriteString(" want:\n")
	if len(want) == 0 {
		b.WriteString("    none\n")
	}
	for _, w := range want {
		b.WriteString("    " + w + "\n")
	}
	return b.String()
}

// What Twilio sends, for checkCorpusCase. See testdata/twilio/README.md.
var (
	// Conversations webhooks: post-events, and the pre-events the corpus uses.
	webhookPostEvents = []string{"onConversationAdded", "onConversationUpdated", "onConversationRemoved",
		"onConversationStateUpdated", "onMessageAdded", "onMessageUpdated", "onMessageRemoved",
		"onParticipantAdded", "onParticipantUpdated", "onParticipantRemoved", "onUserAdded", "onUserUpdated",
		"onDeliveryUpdated"}
	webhookPreEvents = []string{"onConversationAdd", "onConversationUpdate", "onConversationRemove",
		"onMessageAdd", "onMessageUpdate", "onMessageRemove", "onParticipantAdd", "onParticipantUpdate",
		"onParticipantRemove", "onUserUpdate"}
	// Event Streams types for Conversations (delivery.updated is discontinued).
	cloudEventTypes = []string{"conversation.added", "conversation.updated", "conversation.removed",
		"conversation-state.updated", "message.added", "message.updated", "message.removed",
		"participant.added", "participant.updated", "participant.removed", "user.added", "user.updated"}
	cloudEventKeys = []string{"specversion", "type", "source", "id", "dataschema", "datacontenttype", "time", "data"}
	// A Twilio SID: two letters and 32 hex digits. sidLike catches values
	// meant as one.
	sidPattern = regexp.MustCompile(`^[A-Z]{2}[0-9a-f]{32}$`)
	sidLike    = regexp.MustCompile(`^(AC|IS|CH|MB|IM|US|RL|MG|WH|DY|ME|SM|HX|NO)[0-9a-fA-F]{6,}$`)
)

// checkCorpusCase says how a case file departs from what Twilio sends and
// from the corpus format; nil when it does not.
func checkCorpusCase(path string, c corpusCase) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if want := strings.TrimSuffix(filepath.Base(path), ".json"); c.Name != want {
		bad("name %q, want the file's name %q", c.Name, want)
	}
	if !strings.HasPrefix(c.Doc, "https://www.twilio.com/docs/") {
		bad("doc %q is not a Twilio documentation URL", c.Doc)
	}
	if strings.TrimSpace(c.Notes) == "" {
		bad("no notes: say why the case matters")
	}
	if len(c.Webhooks)+len(c.EventStreams) == 0 {
		bad("no payloads")
	}
	payloadSIDs := map[string]bool{}
	checkSID := func(where, v string) {
		if sidLike.MatchString(v) {
			if !sidPattern.MatchString(v) {
				bad("%s: %q is not a Twilio SID (two letters and 32 lower-case hex digits)", where, v)
			}
			payloadSIDs[v] = true
		}
	}
	checkTime := func(where, v string) {
		if _, err := time.Parse(time.RFC3339Nano, v); err != nil || !strings.HasSuffix(v, "Z") {
			bad("%s: %q is not an RFC 3339 UTC time", where, v)
		}
	}

	for i, w := range c.Webhooks {
		where := fmt.Sprintf("webhook %d", i+1)
		checkTime(where+" received_at", w.ReceivedAt)
		form, err := url.ParseQuery(w.Form)
		if err != nil {
			bad("%s: not a form body: %v", where, err)
			continue
		}
		for k, vs := range form {
			if len(vs) != 1 {
				bad("%s: %s given %d times", where, k, len(vs))
			}
			for _, v := range vs {
				checkSID(where+" "+k, v)
			}
		}
		for _, k := range []string{"AccountSid", "EventType", "Source", "ChatServiceSid"} {
			if form.Get(k) == "" {
				bad("%s: no %s (Twilio sends it with every webhook)", where, k)
			}
		}
		event, source := form.Get("EventType"), form.Get("Source")
		post := slices.Contains(webhookPostEvents, event)
		if !post && !slices.Contains(webhookPreEvents, event) && event != "" {
			bad("%s: EventType %q is not a Conversations webhook", where, event)
		}
		if source != "" && source != strings.ToUpper(source) {
			bad("%s: Source %q: Twilio sends it in upper case", where, source)
		}
		if hasClient := form.Has("ClientIdentity"); hasClient != (source == "SDK") {
			bad("%s: ClientIdentity is sent when, and only when, Source is SDK (Source %q, ClientIdentity %v)", where, source, hasClient)
		}
		if post {
			for _, k := range []string{"RetryCount", "WebhookSid", "WebhookType"} {
				if !form.Has(k) {
					bad("%s: no %s (Twilio sends it with every post-event)", where, k)
				}
			}
		}
		switch {
		case strings.HasPrefix(event, "onUser"):
			if form.Get("UserSid") == "" && post {
				bad("%s: no UserSid", where)
			}
		case event != "":
			if form.Get("ConversationSid") == "" {
				bad("%s: no ConversationSid", where)
			}
		}
		if strings.HasPrefix(event, "onMessage") && form.Has("MessageBody") {
			bad("%s: a message webhook carries Body; MessageBody is the Event Streams name", where)
		}
		if post && strings.HasPrefix(event, "onMessage") && form.Get("MessageSid") == "" {
			bad("%s: no MessageSid", where)
		}
		if !post && form.Has("MessageSid") && strings.HasPrefix(event, "onMessageAdd") {
			bad("%s: a pre-event is sent before the message exists: no MessageSid", where)
		}
	}

	ids := map[string]bool{}
	for i, b := range c.EventStreams {
		where := fmt.Sprintf("event_streams batch %d", i+1)
		checkTime(where+" received_at", b.ReceivedAt)
		if len(b.Batch) == 0 {
			bad("%s: empty", where)
		}
		for j, raw := range b.Batch {
			where := fmt.Sprintf("%s event %d", where, j+1)
			var ev map[string]json.RawMessage
			if err := json.Unmarshal(raw, &ev); err != nil {
				bad("%s: not a JSON object: %v", where, err)
				continue
			}
			for k := range ev {
				if !slices.Contains(cloudEventKeys, k) {
					bad("%s: %q is not a field of Twilio's CloudEvents", where, k)
				}
			}
			str := func(k string) string {
				var s string
				if err := json.Unmarshal(ev[k], &s); err != nil || s == "" {
					bad("%s: %s must be a non-empty string", where, k)
				}
				return s
			}
			if v := str("specversion"); v != "1.0" {
				bad("%s: specversion %q", where, v)
			}
			typ, _ := strings.CutPrefix(str("type"), "com.twilio.conversations.")
			if !slices.Contains(cloudEventTypes, typ) {
				bad("%s: type %q is not a Conversations event type", where, str("type"))
			}
			resource, action, _ := strings.Cut(typ, ".")
			schema := ""
			for _, part := range strings.Split(resource, "-") {
				if part != "" {
					schema += strings.ToUpper(part[:1]) + part[1:]
				}
			}
			if action != "" {
				schema += strings.ToUpper(action[:1]) + action[1:]
			}
			if v := str("dataschema"); v != "https://events-schemas.twilio.com/Conversations."+schema+"/2" {
				bad("%s: dataschema %q does not match type %q", where, v, typ)
			}
			if v := str("source"); strings.Contains(v, "/") || regexp.MustCompile(`IS[0-9a-fA-F]{32}`).MatchString(v) {
				bad("%s: source %q: Twilio's is an opaque SID, never a path naming the service", where, v)
			}
			if id := str("id"); ids[id] {
				bad("%s: id %q repeated", where, id)
			} else {
				ids[id] = true
			}
			if v := str("datacontenttype"); v != "application/json" {
				bad("%s: datacontenttype %q", where, v)
			}
			checkTime(where+" time", str("time"))
			var data map[string]any
			if err := json.Unmarshal(ev["data"], &data); err != nil || data == nil {
				bad("%s: data is not a JSON object", where)
				continue
			}
			walkJSON(data, "data", func(at string, key string, v any) {
				if slices.Contains([]string{"ChatServiceSid", "Source", "ClientIdentity"}, key) {
					bad("%s: %s: Event Streams data never holds %s", where, at, key)
				}
				if s, ok := v.(string); ok {
					checkSID(where+" "+at, s)
				}
			})
			if _, ok := data["AccountSid"].(string); !ok {
				bad("%s: data has no AccountSid", where)
			}
			switch resource {
			case "message":
				if _, ok := data["Index"].(float64); !ok {
					bad("%s: data.Index must be a JSON number", where)
				}
				if _, ok := data["Body"]; ok {
					bad("%s: data holds Body; Event Streams call it MessageBody", where)
				}
				for _, k := range []string{"Author", "ParticipantSid", "MessageSid", "ConversationSid", "DateCreated"} {
					if _, ok := data[k]; !ok {
						bad("%s: data has no %s (null when there is none)", where, k)
					}
				}
			case "participant":
				for _, k := range []string{"ParticipantSid", "Identity", "ConversationSid"} {
					if _, ok := data[k]; !ok {
						bad("%s: data has no %s (null when there is none)", where, k)
					}
				}
			case "user":
				if action == "updated" {
					for _, k := range []string{"IsOnline", "IsNotifiable"} {
						if _, ok := data[k].(bool); !ok {
							bad("%s: data.%s must be a JSON boolean, present on every user.updated", where, k)
						}
					}
				}
			}
			if action != "added" && resource != "conversation-state" {
				if _, ok := data["DateUpdated"].(string); !ok {
					bad("%s: data has no DateUpdated", where)
				}
			}
		}
	}

	for i, r := range c.Ledger {
		where := fmt.Sprintf("ledger row %d", i+1)
		if ts, err := time.Parse(time.RFC3339Nano, r.At); err != nil || ts.Before(corpusFrom) {
			bad("%s: at %q must be a time from %s on", where, r.At, corpusFrom.Format("2006-01-02"))
		}
		if r.ServiceSID != "" && (!sidPattern.MatchString(r.ServiceSID) || !strings.HasPrefix(r.ServiceSID, "IS")) {
			bad("%s: service_sid %q", where, r.ServiceSID)
		}
		if !slices.Contains([]string{"identity", "address", "author"}, r.SubjectKind) {
			bad("%s: subject_kind %q", where, r.SubjectKind)
		}
		family, _, _ := strings.Cut(r.Rule, ".")
		if (family == "quality") != (r.SubjectKind == "author") {
			bad("%s: subject_kind author goes with, and only with, a quality rule", where)
		}
		if family != "quality" && !slices.Contains(analysis.Rules, r.Rule) {
			bad("%s: rule %q is not in analysis.Rules", where, r.Rule)
		}
		if !slices.Contains([]string{"webhook", "event_stream"}, r.Source) {
			bad("%s: source %q: the corpus holds webhooks and Event Streams only", where, r.Source)
		}
		if (r.Source == "webhook") == (r.Origin == "") {
			bad("%s: a webhook row has the webhook's Source as origin; an Event Streams row has none", where)
		}
		if !slices.Contains([]string{"time", "received_at", "date_created", "date_updated"}, r.TimedBy) {
			bad("%s: timed_by %q", where, r.TimedBy)
		}
		if !payloadSIDs[r.Evidence] {
			bad("%s: evidence %q is no SID of the case's payloads", where, r.Evidence)
		}
	}
	return problems
}

// walkJSON calls f for every key of every object under v, with its path.
func walkJSON(v any, path string, f func(path, key string, v any)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			f(path+"."+k, k, x)
			walkJSON(x, path+"."+k, f)
		}
	case []any:
		for i, x := range v {
			walkJSON(x, fmt.Sprintf("%s[%d]", path, i), f)
		}
	}
}

// The check above refuses payloads Twilio does not send, so the corpus
// cannot drift towards convenient shapes.
func TestTwilioCorpusCheckRefusesWhatTwilioDoesNotSend(t *testing.T) {
	webhookCase := filepath.Join(corpusDir, "webhooks", "message-added-sdk.json")
	cloudEventCase := filepath.Join(corpusDir, "eventstreams", "message-added-identity-participant.json")
	read := func(path string) corpusCase {
		c, err := readCorpusCase(path)
		if err != nil {
			t.Fatal(err)
		}
		if problems := checkCorpusCase(path, c); len(problems) > 0 {
			t.Fatalf("%s, unchanged, is refused: %q", path, problems)
		}
		return c
	}
	withData := func(key string, value any, nested bool) func(c *corpusCase) {
		return func(c *corpusCase) {
			var ev map[string]any
			json.Unmarshal(c.EventStreams[0].Batch[0], &ev)
			data := ev["data"].(map[string]any)
			if nested {
				data["MessagingBinding"] = map[string]any{key: value}
			} else {
				data[key] = value
			}
			c.EventStreams[0].Batch[0], _ = json.Marshal(ev)
		}
	}
	withForm := func(edit func(url.Values)) func(c *corpusCase) {
		return func(c *corpusCase) {
			form, _ := url.ParseQuery(c.Webhooks[0].Form)
			edit(form)
			c.Webhooks[0].Form = form.Encode()
		}
	}
	for _, tc := range []struct {
		name, path, want string
		edit             func(c *corpusCase)
	}{
		{"CloudEvent data with ChatServiceSid", cloudEventCase, "never holds ChatServiceSid", withData("ChatServiceSid", corpusServiceA, false)},
		{"CloudEvent data with Source", cloudEventCase, "never holds Source", withData("Source", "SDK", false)},
		{"CloudEvent data with ClientIdentity", cloudEventCase, "never holds ClientIdentity", withData("ClientIdentity", "alice", false)},
		{"CloudEvent data with ClientIdentity nested", cloudEventCase, "never holds ClientIdentity", withData("ClientIdentity", "alice", true)},
		{"CloudEvent source naming the service", cloudEventCase, "opaque SID", func(c *corpusCase) {
			var ev map[string]any
			json.Unmarshal(c.EventStreams[0].Batch[0], &ev)
			ev["source"] = "/v1/Services/" + corpusServiceA
			c.EventStreams[0].Batch[0], _ = json.Marshal(ev)
		}},
		{"CloudEvent Index as a string", cloudEventCase, "Index must be a JSON number", withData("Index", "12", false)},
		{"webhook without EventType", webhookCase, "no EventType", withForm(func(f url.Values) { f.Del("EventType") })},
		{"webhook without Source", webhookCase, "no Source", withForm(func(f url.Values) { f.Del("Source"); f.Del("ClientIdentity") })},
		{"webhook without ChatServiceSid", webhookCase, "no ChatServiceSid", withForm(func(f url.Values) { f.Del("ChatServiceSid") })},
		{"webhook from the API with ClientIdentity", webhookCase, "only when, Source is SDK", withForm(func(f url.Values) { f.Set("Source", "API") })},
		{"short SID", webhookCase, "is not a Twilio SID", withForm(func(f url.Values) { f.Set("MessageSid", "IM1234567") })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := read(tc.path)
			tc.edit(&c)
			problems := checkCorpusCase(tc.path, c)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("not refused for %q: %q", tc.want, problems)
			}
		})
	}
}
