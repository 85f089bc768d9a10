package capture

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mauledger/mauledger/ingest"
	"github.com/mauledger/mauledger/ingest/spool"
	"github.com/mauledger/mauledger/internal/twiliofake"
)

const (
	authToken = "12345678901234567890123456789012"
	publicURL = "https://hooks.example.com"
)

// bodySHA256 is the query parameter Twilio adds for a JSON body.
func bodySHA256(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}

type fixture struct {
	srv  *httptest.Server
	dir  string
	w    *spool.Writer
	logs *bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), logs: &bytes.Buffer{}}
	log := slog.New(slog.NewTextHandler(f.logs, nil))
	w, err := spool.Open(f.dir, spool.DefaultOptions, log)
	if err != nil {
		t.Fatal(err)
	}
	f.w = w
	// Listening on 127.0.0.1 while Twilio signs the public URL: the proxy case.
	f.srv = httptest.NewServer(Handler(Config{Spool: w, AuthToken: authToken, PublicURL: publicURL + "/", Log: log}))
	t.Cleanup(func() { f.srv.Close(); w.Close() })
	return f
}

func (f *fixture) post(t *testing.T, pathQuery, contentType, body string, header http.Header) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+pathQuery, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func (f *fixture) spooled(t *testing.T) []string {
	t.Helper()
	segs, err := spool.Segments(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, s := range segs {
		b, _ := os.ReadFile(s.Path)
		for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			if l != "" {
				lines = append(lines, l)
			}
		}
	}
	return lines
}

var webhook = url.Values{
	"EventType": {"onMessageAdded"}, "Source": {"SDK"}, "ClientIdentity": {"alice@example.com"},
	"ChatServiceSid": {"IS1"}, "ConversationSid": {"CH1"}, "MessageSid": {"IM1"},
	"Body": {"hi <b>&</b> \"there\"\nsecond line"}, "DateCreated": {"2026-11-01T10:00:00.000Z"}, "RetryCount": {"0"},
}

const form = "application/x-www-form-urlencoded"

func signed(token, fullURL string, params url.Values, extra ...string) http.Header {
	h := http.Header{"X-Twilio-Signature": {twiliofake.Signature(token, fullURL, params)}}
	for i := 0; i+1 < len(extra); i += 2 {
		h.Set(extra[i], extra[i+1])
	}
	return h
}

func TestWebhookSignatures(t *testing.T) {
	f := newFixture(t)
	good := publicURL + ConversationsPath
	tampered := url.Values{}
	for k, v := range webhook {
		tampered[k] = v
	}
	tampered.Set("ClientIdentity", "mallory")
	for _, c := range []struct {
		name   string
		body   url.Values
		header http.Header
		want   int
	}{
		{"wrong auth token", webhook, signed("another-token", good, webhook), http.StatusForbidden},
		{"tampered parameter", tampered, signed(authToken, good, webhook), http.StatusForbidden},
		{"different URL", webhook, signed(authToken, "https://evil.example.com"+ConversationsPath, webhook), http.StatusForbidden},
		{"listen address instead of the public URL", webhook, signed(authToken, f.srv.URL+ConversationsPath, webhook), http.StatusForbidden},
		{"missing header", webhook, http.Header{}, http.StatusForbidden},
		{"signed", webhook, signed(authToken, good, webhook, "I-Twilio-Idempotency-Token", "tok-1"), http.StatusOK},
		{"signed with the port Twilio sometimes includes", webhook, signed(authToken, "https://hooks.example.com:443"+ConversationsPath, webhook), http.StatusOK},
	} {
		if got := f.post(t, ConversationsPath, form, c.body.Encode(), c.header); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}
	lines := f.spooled(t)
	if len(lines) != 2 {
		t.Fatalf("spooled %d lines, want the 2 signed requests: %q", len(lines), lines)
	}
	if !strings.HasPrefix(lines[0], `{"Body":"hi <b>&</b> \"there\"\nsecond line","ChatServiceSid":"IS1","ClientIdentity":"alice@example.com",`) ||
		!strings.Contains(lines[0], `"RetryCount":"0","Source":"SDK","_received_at":"20`) ||
		!strings.HasSuffix(lines[0], `Z","_idempotency_token":"tok-1"}`) {
		t.Errorf("spool line %s", lines[0])
	}
	// One line per rejection, with the reason and without personal data.
	logs := f.logs.String()
	if n := strings.Count(logs, "request rejected"); n != 5 || strings.Contains(logs, "alice") || strings.Contains(logs, "mallory") {
		t.Errorf("%d rejection lines in %s", n, logs)
	}
	if !strings.Contains(logs, "reason=\"no X-Twilio-Signature header\"") || !strings.Contains(logs, "does not match") {
		t.Errorf("logs %s", logs)
	}
}

const batch = `[
  {"specversion":"1.0","type":"com.twilio.conversations.message.added","id":"EV1","time":"2026-11-01T10:00:00Z",
   "data":{"ConversationSid":"CH1","MessageSid":"IM5","Author":"bob","DateCreated":"2026-11-01T10:00:00Z"}},
  {"specversion":"1.0","type":"com.twilio.conversations.participant.added","id":"EV2","time":"2026-11-01T10:00:01Z",
   "data":{"ConversationSid":"CH1","ParticipantSid":"MB1","Identity":"bob","DateCreated":"2026-11-01T10:00:01Z"}}
]`

func TestEventStreamsSignatures(t *testing.T) {
	f := newFixture(t)
	q := "?bodySHA256=" + bodySHA256(batch)
	sig := func(pathQuery string) http.Header {
		return http.Header{"X-Twilio-Signature": {twiliofake.Signature(authToken, publicURL+pathQuery, nil)},
			"I-Twilio-Idempotency-Token": {"batch-1"}}
	}
	for _, c := range []struct {
		name, pathQuery, body string
		header                http.Header
		want                  int
	}{
		{"tampered body", EventsPath + q, strings.Replace(batch, "bob", "eve", 1), sig(EventsPath + q), http.StatusForbidden},
		{"no bodySHA256", EventsPath, batch, sig(EventsPath), http.StatusForbidden},
		{"missing header", EventsPath + q, batch, http.Header{}, http.StatusForbidden},
		{"signed batch", EventsPath + q, batch, sig(EventsPath + q), http.StatusOK},
		{"signed redelivery", EventsPath + q, batch, sig(EventsPath + q), http.StatusOK},
	} {
		if got := f.post(t, c.pathQuery, "application/json; charset=utf-8", c.body, c.header); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}
	lines := f.spooled(t)
	if len(lines) != 4 {
		t.Fatalf("spooled %q, want one line per event of the two signed deliveries", lines)
	}
	if !strings.HasPrefix(lines[1], `{"_received_at":"20`) ||
		!strings.Contains(lines[1], `"_idempotency_token":"batch-1#1","specversion":"1.0","type":"com.twilio.conversations.participant.added","id":"EV2"`) {
		t.Errorf("spool line %s", lines[1])
	}
}

func TestBadRequestsAreRefusedWithoutStoring(t *testing.T) {
	f := newFixture(t)
	body := webhook.Encode()
	h := signed(authToken, publicURL+ConversationsPath, webhook)
	if got := f.post(t, ConversationsPath, "application/json", body, h); got != http.StatusUnsupportedMediaType {
		t.Errorf("wrong content type: %d", got)
	}
	big := url.Values{"EventType": {"onMessageAdded"}, "Body": {strings.Repeat("x", MaxBodyBytes)}}
	if got := f.post(t, ConversationsPath, form, big.Encode(), signed(authToken, publicURL+ConversationsPath, big)); got != http.StatusRequestEntityTooLarge {
		t.Errorf("too large: %d", got)
	}
	if got := f.post(t, ConversationsPath, form, "EventType=%zz", h); got != http.StatusBadRequest {
		t.Errorf("malformed form: %d", got)
	}
	notJSON := "[{not json"
	q := "?bodySHA256=" + bodySHA256(notJSON)
	if got := f.post(t, EventsPath+q, "application/json", notJSON,
		http.Header{"X-Twilio-Signature": {twiliofake.Signature(authToken, publicURL+EventsPath+q, nil)}}); got != http.StatusBadRequest {
		t.Errorf("malformed JSON: %d", got)
	}
	for _, c := range []struct{ method, path string }{{http.MethodGet, ConversationsPath}, {http.MethodPut, EventsPath}, {http.MethodPost, HealthPath}} {
		req, _ := http.NewRequest(c.method, f.srv.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d", c.method, c.path, resp.StatusCode)
		}
	}
	if resp, err := http.Get(f.srv.URL + "/nowhere"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown path: %v %v", resp, err)
	}
	resp, err := http.Get(f.srv.URL + HealthPath)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("healthz: %v %v", resp, err)
	}
	if lines := f.spooled(t); len(lines) != 0 {
		t.Errorf("stored %q", lines)
	}
}

func TestDuplicateDeliveriesLoadOnce(t *testing.T) {
	f := newFixture(t)
	variant := func(message, retryCount string) url.Values {
		v := url.Values{}
		for k, vs := range webhook {
			v[k] = vs
		}
		v.Set("MessageSid", message)
		v.Set("RetryCount", retryCount)
		return v
	}
	// A webhook and its retry, which Twilio sends with the same idempotency
	// token; and another without the header (say a proxy dropped it), where
	// the payload apart from RetryCount tells the retry.
	for _, retry := range []string{"0", "1"} {
		p := variant("IM1", retry)
		f.post(t, ConversationsPath, form, p.Encode(), signed(authToken, publicURL+ConversationsPath, p, "I-Twilio-Idempotency-Token", "tok-9"))
		p = variant("IM2", retry)
		f.post(t, ConversationsPath, form, p.Encode(), signed(authToken, publicURL+ConversationsPath, p))
	}
	// An Event Streams batch delivered twice.
	q := "?bodySHA256=" + bodySHA256(batch)
	for range 2 {
		f.post(t, EventsPath+q, "application/json", batch, http.Header{"X-Twilio-Signature": {twiliofake.Signature(authToken, publicURL+EventsPath+q, nil)}})
	}
	if n := len(f.spooled(t)); n != 8 {
		t.Fatalf("spooled %d lines, want 8", n)
	}
	store, err := ingest.Open(context.Background(), filepath.Join(t.TempDir(), "m.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	loads, err := store.LoadSpool(context.Background(), f.dir)
	if err != nil {
		t.Fatal(err)
	}
	// Two messages and two CloudEvents, once each.
	if len(loads) != 1 || loads[0].Events != 8 || loads[0].Loaded != 4 || loads[0].Duplicates != 4 || len(loads[0].Rejected) != 0 {
		t.Fatalf("load: %+v", loads)
	}
}

func TestSpoolLinesKeepEveryValueExactly(t *testing.T) {
	for _, v := range []string{"IS0123", "alice@example.com", `a "quote" and \ backslash`, "tab\tnew\nline\x00nul",
		"<b>&amp;</b>", "whatsapp:+447700900123", "Zoë 😀", "\x7fdel", ""} {
		lines := webhookLines(map[string]string{"Body": v}, envelope{receivedAt: "2026-11-01T00:00:00.000000Z"})
		var got map[string]string
		if err := json.Unmarshal(lines[0], &got); err != nil || got["Body"] != v || bytes.ContainsRune(lines[0], '\n') {
			t.Errorf("%q spooled as %s (%v)", v, lines[0], err)
		}
	}
}

func TestAFailedSpoolWriteIsNotAcknowledged(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	w, err := spool.Open(dir, spool.Options{MaxSegmentBytes: 100, MaxSegmentAge: time.Hour}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	srv := httptest.NewServer(Handler(Config{Spool: w, AuthToken: authToken, PublicURL: publicURL, Log: log}))
	defer srv.Close()
	health := func() int {
		resp, err := http.Get(srv.URL + HealthPath)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	h := signed(authToken, publicURL+ConversationsPath, webhook)
	req := func() int {
		r, _ := http.NewRequest(http.MethodPost, srv.URL+ConversationsPath, strings.NewReader(webhook.Encode()))
		r.Header = h.Clone()
		r.Header.Set("Content-Type", form)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := req(); got != http.StatusOK || health() != http.StatusOK {
		t.Fatalf("first request %d", got)
	}
	// The disk goes away: the next segment cannot be created.
	os.RemoveAll(dir)
	if got := req(); got != http.StatusServiceUnavailable {
		t.Errorf("request after the spool failed: %d, want 503", got)
	}
	if got := health(); got != http.StatusServiceUnavailable {
		t.Errorf("healthz while the spool fails: %d", got)
	}
	if !strings.Contains(logs.String(), "spool write failed") {
		t.Errorf("logs %s", logs.String())
	}
}
